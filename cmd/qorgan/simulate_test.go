package main_test

import (
	"bufio"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"qorgan/internal/protocol/dc09"
)

// ackingReceiver answers every DC-09 frame over TCP as a receiver that knows
// every account would: with the codec alone, no store.
func ackingReceiver(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				sc.Split(dc09.SplitFrames)
				for sc.Scan() {
					now := time.Now()
					m, err := dc09.Parse(sc.Bytes(), nil, now, dc09.Window{})
					if out, err := dc09.Answer(dc09.Decide(m, err), m, nil, now, rand.Reader); err == nil {
						c.Write(out)
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// simulate runs `qorgan simulate panel` with extra environment variables.
func simulate(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"simulate", "panel", "--accounts", "1234", "--codes", "PA", "--count", "1", "--ack-timeout", "300ms"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSimulatePanelTarget: the simulator's target is --dc09-addr
// (QORGAN_DC09_ADDR), the server's own name for its DC-09 receiver, not
// QORGAN_ADDR, which is the server's HTTP address; and a run in which no
// frame was ACKed exits non-zero, saying where it sent.
func TestSimulatePanelTarget(t *testing.T) {
	dc09Addr := ackingReceiver(t)
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	httpAddr := strings.TrimPrefix(web.URL, "http://")

	out, err := simulate(t, nil, "--dc09-addr", dc09Addr)
	if err != nil || !strings.Contains(out, "1 ACK") {
		t.Fatalf("--dc09-addr: %v\n%s", err, out)
	}
	// The environment as the configuration table has it for a server:
	// QORGAN_ADDR is HTTP and is not the simulator's business.
	out, err = simulate(t, []string{"QORGAN_ADDR=" + httpAddr, "QORGAN_DC09_ADDR=" + dc09Addr})
	if err != nil || !strings.Contains(out, "1 ACK") {
		t.Fatalf("QORGAN_DC09_ADDR beside QORGAN_ADDR: %v\n%s", err, out)
	}
	// DC-09 sent to an HTTP port: nothing is ACKed, and the exit says so.
	out, err = simulate(t, []string{"QORGAN_DC09_ADDR=" + httpAddr})
	if err == nil || !strings.Contains(out, "no frame was ACKed by "+httpAddr) || !strings.Contains(out, "--dc09-addr") {
		t.Fatalf("DC-09 to an HTTP port: %v\n%s", err, out)
	}
}
