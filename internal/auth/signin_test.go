package auth_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/store"
	"qorgan/internal/store/storetest"
)

// signInService is a Service with one user, "duty.officer", whose clock
// the test moves.
func signInService(t *testing.T, db *store.DB, l auth.SignInLimits) (*auth.Service, *time.Time) {
	t.Helper()
	a := auth.New(db)
	a.LimitSignIns(l)
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return now }
	if _, err := a.CreateUser(context.Background(), auth.System, auth.NewUser{Login: "duty.officer", Password: "correct horse battery",
		Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: "1"}}); err != nil {
		t.Fatal(err)
	}
	return a, &now
}

// TestSignInFloodIsBounded: a flood of wrong passwords runs at most
// Checks password checks at once; the attempts beyond the queue are
// answered "busy" at once, without hashing, and say when to try again.
func TestSignInFloodIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a, _ := signInService(t, db, auth.SignInLimits{Checks: 1, Waiting: 1, Wait: 20 * time.Millisecond, PerSecond: 1000,
			AddrBurst: 1000, LoginBurst: 1000})
		ctx := context.Background()
		// One check alone, to know what a hash costs here.
		began := time.Now()
		if _, err := a.Authenticate(ctx, "192.0.2.1:5000", "duty.officer", "wrong password"); errs.CodeOf(err) != errs.Unauthorized {
			t.Fatalf("wrong password: %v", err)
		}
		hashTook := time.Since(began)

		const flood = 40
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[errs.Code]int{}
		for i := range flood {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := a.Authenticate(ctx, "192.0.2.1:"+itoa(6000+i), "duty.officer", "wrong password")
				mu.Lock()
				defer mu.Unlock()
				c := errs.CodeOf(err)
				codes[c]++
				if c == errs.Unavailable && errs.As(err).RetryAfter <= 0 {
					t.Errorf("busy answer without a time to retry: %v", err)
				}
			}()
		}
		wg.Wait()
		st := a.SignInStats()
		t.Logf("one hash %s; %d attempts at once: %v; %+v", hashTook.Round(time.Millisecond), flood, codes, st)
		if codes[errs.Unauthorized]+codes[errs.Unavailable] != flood {
			t.Fatalf("unexpected answers: %v", codes)
		}
		// Never more than one check at once, and every attempt refused as
		// busy was refused without one.
		if st.Peak != 1 {
			t.Errorf("%d password checks ran at once, want 1", st.Peak)
		}
		if codes[errs.Unavailable] == 0 || st.Busy != uint64(codes[errs.Unavailable]) ||
			st.Failed != uint64(1+codes[errs.Unauthorized]) || st.Checked != st.Failed+1 /* the account's creation */ {
			t.Errorf("answers %v do not match the counters %+v", codes, st)
		}
	})
}

// TestSignInThrottles: a login that has used up its failed attempts is
// refused before any check, even with the right password, until its
// bucket refills; so is an address, whichever logins it tries; other
// logins and addresses are not affected.
func TestSignInThrottles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a, now := signInService(t, db, auth.SignInLimits{LoginBurst: 3, LoginEvery: time.Minute, AddrBurst: 5, AddrEvery: 10 * time.Second, PerSecond: 1000})
		ctx := context.Background()
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "other.officer", Password: "another long password",
			Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: "1"}}); err != nil {
			t.Fatal(err)
		}
		// Three wrong passwords for one login, from three addresses.
		for i := range 3 {
			if _, err := a.Authenticate(ctx, "198.51.100."+itoa(i+1)+":4000", "duty.officer", "guess "+itoa(i)); errs.CodeOf(err) != errs.Unauthorized {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		_, err := a.Authenticate(ctx, "203.0.113.9:4000", "Duty.Officer ", "correct horse battery")
		if e := errs.As(err); e.Code != errs.TooMany || e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
			t.Fatalf("fourth attempt at the login: %v (retry after %s), want too many", err, e.RetryAfter)
		}
		// Another login is not affected.
		if _, err := a.Authenticate(ctx, "203.0.113.9:4000", "other.officer", "another long password"); err != nil {
			t.Fatalf("another login: %v", err)
		}
		// A minute later the login has one attempt again.
		*now = now.Add(time.Minute)
		if _, err := a.Authenticate(ctx, "203.0.113.9:4000", "duty.officer", "correct horse battery"); err != nil {
			t.Fatalf("after a minute: %v", err)
		}

		// One address trying many logins: unknown logins count too.
		for i := range 5 {
			if _, err := a.Authenticate(ctx, "192.0.2.77:1000", "nobody"+itoa(i), "whatever it is"); errs.CodeOf(err) != errs.Unauthorized {
				t.Fatalf("spray %d: %v", i, err)
			}
		}
		if _, err := a.Authenticate(ctx, "192.0.2.77:1001", "other.officer", "another long password"); errs.CodeOf(err) != errs.TooMany {
			t.Fatalf("sixth attempt from the address: %v, want too many", err)
		}
		// An IPv6 host counts by its /64: another address in it is the same.
		for i := range 5 {
			a.Authenticate(ctx, "[2001:db8:1:2::"+itoa(i+1)+"]:1000", "v6-"+itoa(i), "whatever it is")
		}
		if _, err := a.Authenticate(ctx, "[2001:db8:1:2:ffff::1]:1000", "other.officer", "another long password"); errs.CodeOf(err) != errs.TooMany {
			t.Fatalf("same /64: %v, want too many", err)
		}
		if _, err := a.Authenticate(ctx, "[2001:db8:1:3::1]:1000", "other.officer", "another long password"); err != nil {
			t.Fatalf("another /64: %v", err)
		}
		// Ten seconds later the address has one attempt again.
		*now = now.Add(10 * time.Second)
		if _, err := a.Authenticate(ctx, "192.0.2.77:1002", "other.officer", "another long password"); err != nil {
			t.Fatalf("after ten seconds: %v", err)
		}
	})
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:80":           "192.0.2.1",
		"192.0.2.1":              "192.0.2.1",
		"[::ffff:192.0.2.1]:80":  "192.0.2.1",
		"[2001:db8:a:b:c::1]:80": "2001:db8:a:b::/64",
		"2001:db8:a:b:c::1":      "2001:db8:a:b::/64",
		"pipe":                   "",
		"":                       "",
	} {
		if got := auth.SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestMain lets this test binary act as a password worker when the test
// below starts it as one.
func TestMain(m *testing.M) {
	if os.Getenv("QORGAN_TEST_PASSWORD_WORKER") == "1" {
		if err := auth.ServePasswordWorker(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPasswordWorkers: checks and new hashes made in worker processes
// give the answers the process itself would, at the lower priority, and a
// worker that dies is replaced (the sign-in in flight is answered busy).
func TestPasswordWorkers(t *testing.T) {
	// The test binary itself, told by its environment to be a worker
	// (see TestMain), and told to run no test should it not be.
	workers, err := auth.StartPasswordWorkers(os.Args[0], []string{"-test.run=^$"}, []string{"QORGAN_TEST_PASSWORD_WORKER=1"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer workers.Close()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := auth.New(db)
		a.LimitSignIns(auth.SignInLimits{Checks: 2})
		a.UsePasswordWorkers(workers)
		if _, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: "night.operator", Password: "a long night ahead",
			Role: auth.RolePCNOperator, Scope: auth.Scope{Kind: auth.ScopeProvider, Ref: "1"}}); err != nil {
			t.Fatal(err)
		}
		var hash string
		db.Reader().QueryRowContext(ctx, "SELECT password_hash FROM users WHERE login = 'night.operator'").Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
			t.Fatalf("hash made by a worker: %q", hash)
		}
		if _, err := a.Authenticate(ctx, "192.0.2.1:1", "night.operator", "a long night ahead"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if _, err := a.Authenticate(ctx, "192.0.2.1:1", "night.operator", "a short night"); errs.CodeOf(err) != errs.Unauthorized {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := a.Authenticate(ctx, "192.0.2.1:1", "nobody.here", "a long night ahead"); errs.CodeOf(err) != errs.Unauthorized {
			t.Fatalf("unknown login: %v", err)
		}
	})
	// The workers run at the lower priority, every thread of them.
	for _, pid := range workers.PIDs() {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			tid, _ := strconv.Atoi(task.Name())
			prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
			if err != nil {
				continue // the thread ended
			}
			// The raw system call answers 20 - nice.
			if nice := 20 - prio; nice != auth.WorkerNice {
				t.Errorf("worker %d thread %d runs at nice %d, want %d", pid, tid, nice, auth.WorkerNice)
			}
		}
	}
	// A worker killed between requests is replaced: the next request on
	// it fails as "busy", and the one after is served.
	for _, pid := range workers.PIDs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	db := storetest.SQLite(t)
	a := auth.New(db)
	a.LimitSignIns(auth.SignInLimits{Checks: 2})
	a.UsePasswordWorkers(workers)
	ctx := context.Background()
	var busy, wrong int
	for range 4 {
		_, err := a.Authenticate(ctx, "", "nobody", "some password")
		switch errs.CodeOf(err) {
		case errs.Unavailable:
			busy++
		case errs.Unauthorized:
			wrong++
		default:
			t.Fatalf("after the workers died: %v", err)
		}
	}
	if busy != 2 || wrong != 2 {
		t.Fatalf("after killing both workers: %d busy, %d checked; want 2 and 2", busy, wrong)
	}
}

// TestSignInRate: the checks started per second over the whole server
// are bounded; an attempt over the rate is answered busy at once, without
// a check, whatever its login and address, and says when to try again.
func TestSignInRate(t *testing.T) {
	db := storetest.SQLite(t)
	// One check every 100 s: however slow the machine, nothing refills
	// while the test runs.
	a, _ := signInService(t, db, auth.SignInLimits{PerSecond: 0.01, Burst: 2})
	ctx := context.Background()
	before := a.SignInStats()
	var codes []errs.Code
	for i := range 4 {
		_, err := a.Authenticate(ctx, "198.51.100."+itoa(i+1)+":1", "login"+itoa(i), "some password")
		codes = append(codes, errs.CodeOf(err))
		if errs.CodeOf(err) == errs.Unavailable && errs.As(err).RetryAfter <= 0 {
			t.Errorf("busy without a time to retry: %v", err)
		}
	}
	st := a.SignInStats()
	// The account's creation (an administrator's act) is not counted
	// against the sign-ins' rate.
	if codes[0] != errs.Unauthorized || codes[1] != errs.Unauthorized || codes[2] != errs.Unavailable || codes[3] != errs.Unavailable {
		t.Fatalf("four attempts with a burst of 2: %v", codes)
	}
	if st.Checked-before.Checked != 2 || st.Busy-before.Busy != 2 {
		t.Fatalf("counters: before %+v, after %+v", before, st)
	}
}
