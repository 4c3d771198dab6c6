package dc09_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"qorgan/internal/protocol/dc09"
)

// The receiver's loop for one TCP connection: cut the stream into frames,
// parse each, decide the reply and send it before reading on.
func Example() {
	stream := strings.NewReader(
		"\n73580056\"SIA-DCS\"0002R1L232#78919[#78919|Nri1/BA012][X012W34.1][Y045N12.2]_14:12:04,09-25-2026\r" +
			"\n9EC40027\"ADM-CID\"0001L0#1002[#1002|1602 00 001]\r" +
			"\n0000002A\"SIA-DCS\"0003L0#1002[#1002|Nri1/PA001]\r")
	keys := dc09.Keys{} // per-account AES keys, upper-case account
	now := time.Date(2026, 9, 25, 14, 12, 10, 0, time.UTC)

	sc := bufio.NewScanner(stream)
	sc.Split(dc09.SplitFrames)
	for sc.Scan() {
		msg, err := dc09.Parse(sc.Bytes(), keys, now, dc09.DefaultWindow())
		reply := dc09.Decide(msg, err)
		out, aerr := dc09.Answer(reply, msg, keys, now, rand.Reader)
		if aerr != nil {
			fmt.Println("cannot answer:", aerr)
			continue
		}
		for _, ev := range msg.Events {
			fmt.Printf("account %s: %s zone %q user %q\n", msg.AccountID(), ev.Type, ev.Zone, ev.User)
		}
		fmt.Printf("%s %q err=%v\n", reply, bytes.TrimSpace(out), err)
	}
	// Output:
	// account 78919: burglary zone "012" user ""
	// ACK "0AFE0017\"ACK\"0002R1L232#78919[]" err=<nil>
	// account 1002: periodic_test zone "001" user ""
	// ACK "9E580012\"ACK\"0001L0#1002[]" err=<nil>
	// NAK "3E9C0025\"NAK\"0000R0L0A0[]_14:12:10,09-25-2026" err=dc09: CRC mismatch: frame says 0000, body is E9F3
}
