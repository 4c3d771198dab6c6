package dc09

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var (
	frameA = "\n0AFE0017\"ACK\"0002R1L232#78919[]\r"
	frameB = "\n73580056\"SIA-DCS\"0002R1L232#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]_14:12:04,09-25-2026\r"
	frameC = "\n9EC40027\"ADM-CID\"0001L0#1002[#1002|1602 00 001]\r"
)

// scan runs the stream through a bufio.Scanner with SplitFrames, reading
// from r as the receiver would from a TCP connection.
func scan(t *testing.T, r io.Reader) []string {
	t.Helper()
	return scanBuffered(t, r, 64, 2*MaxFrameLen)
}

// scanBuffered is scan with a buffer that starts at initial bytes and may
// grow to max.
func scanBuffered(t *testing.T, r io.Reader, initial, max int) []string {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, initial), max)
	sc.Split(SplitFrames)
	var frames []string
	for sc.Scan() {
		frames = append(frames, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scanner: %v", err)
	}
	return frames
}

func TestSplitFrames(t *testing.T) {
	huge := "\n" + strings.Repeat("A", MaxFrameLen) + "\r"
	for _, tc := range []struct {
		name   string
		stream string
		want   []string
	}{
		{"one", frameA, []string{frameA}},
		{"glued", frameA + frameB + frameC, []string{frameA, frameB, frameC}},
		{"garbage between", "junk" + frameA + "\x00\xff more junk\r" + frameB, []string{frameA, frameB}},
		{"truncated frame then a whole one", frameB[:30] + frameC, []string{frameC}},
		{"partial at end of stream", frameA + frameB[:40], []string{frameA}},
		{"oversize frame skipped", frameA + huge + frameC, []string{frameA, frameC}},
		{"oversize without CR then a frame", frameA + "\n" + strings.Repeat("B", 3*MaxFrameLen) + frameC, []string{frameA, frameC}},
		{"exactly the maximum", "\n" + strings.Repeat("C", MaxFrameLen-2) + "\r", []string{"\n" + strings.Repeat("C", MaxFrameLen-2) + "\r"}},
		{"CRLF line endings", frameA + "\n" + frameC, []string{frameA, frameC}},
		{"only garbage", strings.Repeat("x", 10*MaxFrameLen), nil},
		{"empty", "", nil},
	} {
		for _, reader := range []struct {
			name string
			r    func(string) io.Reader
		}{
			{"whole", func(s string) io.Reader { return strings.NewReader(s) }},
			{"byte by byte", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
			{"halves", func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
		} {
			got := scan(t, reader.r(tc.stream))
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("%s, %s: got %q, want %q", tc.name, reader.name, got, tc.want)
			}
		}
	}
}

// A frame split across reads must come out whole and parse.
func TestSplitFramePartialThenParse(t *testing.T) {
	stream := frameB + frameC
	for cut := 1; cut < len(stream); cut++ {
		r := io.MultiReader(strings.NewReader(stream[:cut]), strings.NewReader(stream[cut:]))
		got := scan(t, r)
		if len(got) != 2 || got[0] != frameB || got[1] != frameC {
			t.Fatalf("cut at %d: %q", cut, got)
		}
	}
	m, err := Parse([]byte(frameB), nil, testNow, Window{})
	if err != nil || Decide(m, err) != ReplyACK {
		t.Fatalf("parse: %+v %v", m, err)
	}
}

func TestCutCountsSkipped(t *testing.T) {
	buf := []byte("noise" + frameA)
	frame, advance, skipped := Cut(buf)
	if string(frame) != frameA || advance != len(buf) || skipped != len("noise") {
		t.Fatalf("Cut = %q, %d, %d", frame, advance, skipped)
	}
	frame, advance, skipped = Cut([]byte("noise\nparti"))
	if frame != nil || advance != 5 || skipped != 5 {
		t.Fatalf("partial: Cut = %q, %d, %d", frame, advance, skipped)
	}
	big := append([]byte{'\n'}, bytes.Repeat([]byte("Z"), MaxFrameLen)...)
	frame, advance, skipped = Cut(big)
	if frame != nil || advance != len(big) || skipped != len(big) {
		t.Fatalf("oversize: Cut = %q, %d, %d", frame, advance, skipped)
	}
}

// blockingReader hands out its data once, then fails the test if read
// again: a scanner that reads with a complete frame buffered would leave
// the panel waiting for its ACK.
type blockingReader struct {
	t    *testing.T
	data []byte
	read bool
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.read {
		r.t.Fatalf("read again with a complete frame buffered")
	}
	r.read = true
	return copy(p, r.data), nil
}

func TestSplitDoesNotReadPastBufferedFrame(t *testing.T) {
	for _, stream := range []string{
		"garbage\r" + frameA,
		"\r\r" + frameA,
		"\n" + strings.Repeat("X", MaxFrameLen) + "\r" + frameA,
		frameC[1:20] + "\r" + frameA,
	} {
		sc := bufio.NewScanner(&blockingReader{t: t, data: []byte(stream)})
		sc.Buffer(make([]byte, 0, 2*MaxFrameLen), 4*MaxFrameLen)
		sc.Split(SplitFrames)
		if !sc.Scan() || sc.Text() != frameA {
			t.Fatalf("%q: got %q, %v", stream, sc.Text(), sc.Err())
		}
	}
}
