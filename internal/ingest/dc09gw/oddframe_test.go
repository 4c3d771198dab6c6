package dc09gw_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/ingest/dc09gw"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/registry"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
)

// batchLog wraps the receiver's alarm service and keeps, for each group
// commit, the accounts and sequence numbers it carried and how it ended.
type batchLog struct {
	alarms dc09gw.Alarms
	mu     sync.Mutex
	runs   []batchRun
}

type batchRun struct {
	frames []string // "account/sequence"
	err    error
}

func (b *batchLog) Commit(ctx context.Context, sigs []alarm.Signal) error {
	err := b.alarms.Commit(ctx, sigs)
	run := batchRun{err: err}
	for _, sg := range sigs {
		run.frames = append(run.frames, sg.Account+"/"+sg.Sequence)
	}
	b.mu.Lock()
	b.runs = append(b.runs, run)
	b.mu.Unlock()
	return err
}

func (b *batchLog) take() []batchRun {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.runs
	b.runs = nil
	return out
}

// panelConn is one panel's TCP connection to the receiver.
type panelConn struct {
	c   net.Conn
	buf []byte
}

// reply waits for the answer to a frame: the reply frame, or "" when none
// came within the wait.
func (p *panelConn) reply(t *testing.T, wait time.Duration) string {
	t.Helper()
	p.c.SetReadDeadline(time.Now().Add(wait))
	tmp := make([]byte, 512)
	for {
		if frame, advance, _ := dc09.Cut(p.buf); frame != nil {
			p.buf = p.buf[advance:]
			return string(frame)
		}
		n, err := p.c.Read(tmp)
		p.buf = append(p.buf, tmp[:n]...)
		if err != nil && n == 0 {
			return ""
		}
	}
}

// oddData is a panic whose text block holds a NUL and a byte that is not
// UTF-8: the CRC is right, so the codec takes the frame.
const oddData = "#" + demo.PlainAccount + "|Nri1/PA501^\x00\xff^"

// oddWorld is the DC-09 receiver wired to the alarm service as serve wires
// it, with its group commits logged and waiting for the frames sent at one
// moment to go in one commit, and three more panels in other schools.
type oddWorld struct {
	db      *store.DB
	addr    string
	clk     *testkit.Clock
	batches *batchLog
	good    []string
}

func newOddWorld(t *testing.T, db *store.DB) *oddWorld {
	t.Helper()
	ctx := context.Background()
	w := &oddWorld{db: db, batches: &batchLog{}, good: []string{"A001", "A002", "A003"}}
	w.addr, w.clk = dc09WiredWith(t, db, func(c *dc09gw.Config) {
		// The committer waits for the other frames after the first until
		// it has the good panels' and one more: the frames sent at one
		// moment are in one commit, however busy the machine.
		c.MaxBatch = len(w.good) + 1
		c.BatchWait = 5 * time.Second
	}, func(a dc09gw.Alarms) dc09gw.Alarms { w.batches.alarms = a; return w.batches })
	rows, err := db.Reader().QueryContext(ctx, "SELECT id FROM schools ORDER BY id LIMIT 3 OFFSET 1")
	if err != nil {
		t.Fatal(err)
	}
	var schools []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		schools = append(schools, id)
	}
	rows.Close()
	if len(schools) != len(w.good) {
		t.Fatalf("%d schools besides the first, want %d", len(schools), len(w.good))
	}
	reg := registry.New(db, auth.New(db))
	for i, account := range w.good {
		if _, err := reg.CreateDevice(ctx, auth.System, schools[i], registry.DeviceInput{Kind: registry.AlarmPanel, Name: "Panel " + account, DC09Account: account}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *oddWorld) dial(t *testing.T) *panelConn {
	t.Helper()
	c, err := net.Dial("tcp", w.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &panelConn{c: c}
}

func (w *oddWorld) encode(t *testing.T, account, seq, data string) []byte {
	t.Helper()
	b, err := dc09.Encode(dc09.Message{Token: dc09.TokenSIADCS, Sequence: seq, Receiver: "1", Prefix: "0", Account: account, Data: data, Timestamp: w.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// counts is how many signals and alarms an account has stored.
func (w *oddWorld) counts(t *testing.T, account string) (signals, alarms int) {
	t.Helper()
	if err := w.db.Reader().QueryRowContext(context.Background(), "SELECT COUNT(DISTINCT s.id), COUNT(a.id) FROM signals s LEFT JOIN alarms a ON a.signal_id = s.id WHERE s.account = ?",
		account).Scan(&signals, &alarms); err != nil {
		t.Fatal(err)
	}
	return signals, alarms
}

// round sends, at one moment, a panic under seq from each good panel and
// the other frame from its own connection, and checks that the good ones
// are ACKed and that all went in one group commit. It returns the other
// frame's answer, "" for none.
func (w *oddWorld) round(t *testing.T, goodConns []*panelConn, seq string, other *panelConn, frame []byte) string {
	t.Helper()
	for i, account := range w.good {
		if _, err := goodConns[i].c.Write(w.encode(t, account, seq, "#"+account+"|Nri1/PA501")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.c.Write(frame); err != nil {
		t.Fatal(err)
	}
	for i, account := range w.good {
		if r := goodConns[i].reply(t, 5*time.Second); !strings.Contains(r, `"ACK"`+seq) {
			t.Errorf("panel %s, seq %s, next to the odd frame: reply %q, want ACK %s", account, seq, r, seq)
		}
	}
	answer := other.reply(t, 2*time.Second)
	runs := w.batches.take()
	together := false
	for _, run := range runs {
		together = together || len(run.frames) == len(w.good)+1
		t.Logf("group commit of %v: %v", run.frames, run.err)
	}
	if !together {
		t.Fatalf("the frames were not committed together: %d commits", len(runs))
	}
	return answer
}

// TestDC09OddFrameInGroupCommit sends, in one group commit, panics from
// three panels and from a fourth a frame with a NUL and a 0xFF byte in its
// data, then the same again with the odd frame retransmitted. Every good
// panic is stored and ACKed at once, both times and on both stores; the
// odd frame is stored with its exact bytes, raises its panic and is ACKed,
// its retransmission is recognised; and a frame whose only account is in
// its data and holds such bytes is refused with NAK on both stores.
func TestDC09OddFrameInGroupCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newOddWorld(t, db)
		goodConns := make([]*panelConn, len(w.good))
		for i := range w.good {
			goodConns[i] = w.dial(t)
		}
		oddConn := w.dial(t)
		odd := w.encode(t, demo.PlainAccount, "0007", oddData)

		if r := w.round(t, goodConns, "0001", oddConn, odd); !strings.Contains(r, `"ACK"0007`) {
			t.Errorf("the odd frame: reply %q, want ACK 0007", r)
		}
		w.clk.Add(10 * time.Second)
		// The odd frame again, as a panel that did not hear the ACK
		// retransmits it.
		if r := w.round(t, goodConns, "0002", oddConn, odd); !strings.Contains(r, `"ACK"0007`) {
			t.Errorf("the odd frame retransmitted: reply %q, want ACK 0007", r)
		}

		for _, account := range w.good {
			if signals, alarms := w.counts(t, account); signals != 2 || alarms != 2 {
				t.Errorf("panel %s: %d signals and %d alarms stored, want 2 and 2", account, signals, alarms)
			}
		}
		if signals, alarms := w.counts(t, demo.PlainAccount); signals != 1 || alarms != 1 {
			t.Errorf("the odd frame, sent twice: %d signals and %d alarms, want 1 and 1", signals, alarms)
		}
		var id int64
		var raw string
		if err := db.Reader().QueryRowContext(ctx, "SELECT id, raw FROM signals WHERE account = ?", demo.PlainAccount).Scan(&id, &raw); err != nil {
			t.Fatalf("the odd frame's signal: %v", err)
		}
		if exact, err := alarm.RawOf(ctx, db.Reader(), id); err != nil || !bytes.Equal(exact, odd) {
			t.Errorf("the odd frame stored as %q (%v), want %q", exact, err, odd)
		}
		if !strings.Contains(raw, `^\x00\xff^`) {
			t.Errorf("the odd frame's raw text is %q, want its NUL and 0xFF written as \\x00\\xff", raw)
		}

		// A frame with no account in its header speaks for the account at
		// the start of its data; one with bytes no account has is an
		// unknown account.
		c := w.dial(t)
		if _, err := c.c.Write(w.encode(t, "", "0009", "#\x00\xff|Nri1/PA501")); err != nil {
			t.Fatal(err)
		}
		if r := c.reply(t, 3*time.Second); !strings.Contains(r, `"NAK"`) {
			t.Errorf("a frame whose data account is %q: reply %q, want NAK", "\x00\xff", r)
		}
	})
}

// TestDC09FrameTheStoreRefuses: a frame that the store refuses for a
// reason no one foresaw (here a trigger that fails the insert of its
// signal, inside the group commit's transaction, after the rows before it)
// leaves the panels next to it in the group commit unaffected on both
// stores: their panics are stored once and ACKed, and the refused frame is
// stored not at all and left unanswered, also when the panel retransmits
// it into the next group commit.
func TestDC09FrameTheStoreRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newOddWorld(t, db)
		refuse := []string{`CREATE TRIGGER refuse_0666 BEFORE INSERT ON signals WHEN NEW.sequence = '0666' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`}
		if db.Dialect == store.Postgres {
			refuse = []string{`CREATE FUNCTION refuse_0666() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$`,
				`CREATE TRIGGER refuse_0666 BEFORE INSERT ON signals FOR EACH ROW WHEN (NEW.sequence = '0666') EXECUTE FUNCTION refuse_0666()`}
		}
		for _, q := range refuse {
			if _, err := db.W.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		goodConns := make([]*panelConn, len(w.good))
		for i := range w.good {
			goodConns[i] = w.dial(t)
		}
		refusedConn := w.dial(t)
		refused := w.encode(t, demo.PlainAccount, "0666", "#"+demo.PlainAccount+"|Nri1/PA501")
		for i, seq := range []string{"0001", "0002"} {
			if r := w.round(t, goodConns, seq, refusedConn, refused); r != "" {
				t.Errorf("round %d: the frame the store refuses was answered %q", i+1, r)
			}
			w.clk.Add(10 * time.Second)
		}
		for _, account := range w.good {
			if signals, alarms := w.counts(t, account); signals != 2 || alarms != 2 {
				t.Errorf("panel %s: %d signals and %d alarms stored, want 2 and 2", account, signals, alarms)
			}
		}
		if signals, alarms := w.counts(t, demo.PlainAccount); signals != 0 || alarms != 0 {
			t.Errorf("the refused frame: %d signals and %d alarms stored, want none", signals, alarms)
		}
	})
}
