package dc09

import "bytes"

// Cut finds the first complete LF…CR frame in a TCP stream buffer.
//
// It returns the frame (LF and CR included, nil when none is complete yet),
// how many bytes of buf the caller may drop, and how many of those were
// skipped as garbage. Bytes before a frame's LF are garbage; a frame whose
// LF is followed by another LF before the CR lost its end (the panel
// restarted mid-frame), so the last LF starts the frame. A frame longer
// than MaxFrameLen is skipped whole, so what the caller keeps buffered
// stays below MaxFrameLen.
func Cut(buf []byte) (frame []byte, advance, skipped int) {
	for {
		rest := buf[advance:]
		cr := bytes.IndexByte(rest, '\r')
		if cr < 0 {
			break
		}
		lf := bytes.LastIndexByte(rest[:cr], '\n')
		if lf < 0 || cr+1-lf > MaxFrameLen {
			advance += cr + 1
			continue
		}
		return rest[lf : cr+1], advance + cr + 1, advance + lf
	}
	lf := bytes.LastIndexByte(buf[advance:], '\n')
	if lf < 0 || len(buf)-advance-lf >= MaxFrameLen {
		return nil, len(buf), len(buf)
	}
	return nil, advance + lf, advance + lf
}

// SplitFrames is a bufio.SplitFunc that yields DC-09 frames (LF…CR
// included) from a TCP stream, so several frames on one connection, glued
// or split across reads, come out one by one. Garbage and oversize frames
// are dropped silently; use Cut directly to count them.
//
// A complete frame already buffered is always returned before the scanner
// reads again: the panel waits for its ACK and sends nothing meanwhile.
func SplitFrames(data []byte, atEOF bool) (advance int, token []byte, err error) {
	frame, advance, _ := Cut(data)
	if frame != nil {
		return advance, frame, nil
	}
	if atEOF {
		// A partial frame at the end of the stream will never complete.
		return len(data), nil, nil
	}
	return advance, nil, nil
}
