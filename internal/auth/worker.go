package auth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"github.com/alexedwards/argon2id"
)

// hasher computes and checks password hashes: in this process, or in
// PasswordWorkers.
type hasher interface {
	check(ctx context.Context, pw, hash string) (bool, error)
	hash(ctx context.Context, pw string) (string, error)
}

// inProcess hashes on the caller's goroutine.
type inProcess struct{}

func (inProcess) check(_ context.Context, pw, hash string) (bool, error) {
	return argon2id.ComparePasswordAndHash(pw, hash)
}

func (inProcess) hash(_ context.Context, pw string) (string, error) { return HashPassword(pw) }

// WorkerNice is the scheduling niceness of a password worker: the kernel
// runs the server's threads (the alarm receiver among them) before it
// whenever both want a core, and gives it about a tenth of a contended
// core, so that a sign-in still completes in seconds at the busiest time.
const WorkerNice = 10

// PasswordWorkers run the argon2id checks in child processes (the server's
// own binary with a worker command) at a lower CPU priority: a password
// check takes both cores for a third of a second and 64 MiB, and in the
// server's own process it would hold the Go scheduler's processors while
// the alarm receiver waits (measured: a steady stream of checks took the
// DC-09 ACK p50 from 3 ms to 30 ms). In a worker, the kernel preempts it
// as soon as a server thread wakes, and its memory is not the server's.
type PasswordWorkers struct {
	exe  string
	args []string
	env  []string
	free chan *worker
	mu   sync.Mutex
	all  []*worker
}

type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	enc *json.Encoder
	dec *json.Decoder
}

type workRequest struct {
	Op       string `json:"op"` // "check" or "hash"
	Password string `json:"password"`
	Hash     string `json:"hash,omitempty"`
}

type workReply struct {
	OK    bool   `json:"ok"`
	Hash  string `json:"hash,omitempty"`
	Error string `json:"error,omitempty"`
}

// StartPasswordWorkers starts n workers, each running exe with args (a
// command that calls ServePasswordWorker) and this process's environment
// with env added; a worker that fails is started again the same way.
func StartPasswordWorkers(exe string, args, env []string, n int) (*PasswordWorkers, error) {
	p := &PasswordWorkers{exe: exe, args: args, env: env, free: make(chan *worker, n)}
	for range n {
		w, err := p.start()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.free <- w
	}
	return p, nil
}

func (p *PasswordWorkers) start() (*worker, error) {
	cmd := exec.Command(p.exe, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a password worker: %w", err)
	}
	w := &worker{cmd: cmd, in: in, enc: json.NewEncoder(in), dec: json.NewDecoder(bufio.NewReader(out))}
	p.mu.Lock()
	p.all = append(p.all, w)
	p.mu.Unlock()
	return w, nil
}

// do sends one request to a free worker. A worker that fails is replaced
// by a new one, and the request fails (the sign-in is answered "busy").
func (p *PasswordWorkers) do(ctx context.Context, req workRequest) (workReply, error) {
	var w *worker
	select {
	case w = <-p.free:
	case <-ctx.Done():
		return workReply{}, ctx.Err()
	}
	var rep workReply
	err := w.enc.Encode(req)
	if err == nil {
		err = w.dec.Decode(&rep)
	}
	if err != nil {
		w.in.Close()
		w.cmd.Process.Kill()
		w.cmd.Wait()
		if nw, serr := p.start(); serr == nil {
			w = nw
		} else {
			err = errors.Join(err, serr)
			w = nil
		}
	}
	if w != nil {
		p.free <- w
	} else {
		// No worker could be started: the slot stays empty, and later
		// requests wait on the others (or their context).
	}
	if err != nil {
		return workReply{}, fmt.Errorf("password worker: %w", err)
	}
	if rep.Error != "" {
		return rep, errors.New(rep.Error)
	}
	return rep, nil
}

func (p *PasswordWorkers) check(ctx context.Context, pw, hash string) (bool, error) {
	rep, err := p.do(ctx, workRequest{Op: "check", Password: pw, Hash: hash})
	return rep.OK, err
}

func (p *PasswordWorkers) hash(ctx context.Context, pw string) (string, error) {
	rep, err := p.do(ctx, workRequest{Op: "hash", Password: pw})
	return rep.Hash, err
}

// PIDs are the workers' process ids.
func (p *PasswordWorkers) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, w := range p.all {
		out = append(out, w.cmd.Process.Pid)
	}
	return out
}

// Close ends every worker.
func (p *PasswordWorkers) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.all {
		w.in.Close() // the worker ends at the end of its input
		w.cmd.Wait()
	}
	p.all = nil
	return nil
}

// ServePasswordWorker is a password worker's main loop: it lowers its own
// priority to WorkerNice, computes on one core (argon2id's two lanes one
// after the other: the same hash, twice the time, and the other cores
// stay the server's), and answers requests from r on w until r ends.
func ServePasswordWorker(r io.Reader, w io.Writer) error {
	runtime.GOMAXPROCS(1)
	if err := lowerPriority(WorkerNice); err != nil {
		fmt.Fprintf(os.Stderr, "password worker: cannot lower its priority: %v\n", err)
	}
	dec := json.NewDecoder(bufio.NewReader(r))
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	for {
		var req workRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		var rep workReply
		switch req.Op {
		case "check":
			ok, err := argon2id.ComparePasswordAndHash(req.Password, req.Hash)
			rep.OK = ok && err == nil
		case "hash":
			h, err := HashPassword(req.Password)
			if err != nil {
				rep.Error = err.Error()
			}
			rep.OK, rep.Hash = err == nil, h
		default:
			rep.Error = fmt.Sprintf("unknown operation %q", req.Op)
		}
		if err := enc.Encode(rep); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// lowerPriority sets the niceness of every thread of this process (on
// Linux it is a thread's attribute, and a new thread inherits its
// creator's, so the runtime's later threads follow).
func lowerPriority(nice int) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return syscall.Setpriority(syscall.PRIO_PROCESS, 0, nice)
	}
	var errs []error
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
