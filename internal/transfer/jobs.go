package transfer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/chore"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/store"
)

// ProgressEvery is how often a running job writes its progress to the
// imports table.
const ProgressEvery = 250 * time.Millisecond

// Jobs runs imports in the background for the API and keeps each one's state
// in the imports table, so that the person who started it can follow it.
type Jobs struct {
	Reg *registry.Registry

	mu      sync.Mutex
	running map[int64]*run
	closed  bool
	wg      sync.WaitGroup
	base    context.Context
	cancel  context.CancelFunc
}

// NewJobs returns Jobs over a registry.
func NewJobs(reg *registry.Registry) *Jobs {
	base, cancel := context.WithCancel(context.Background())
	return &Jobs{Reg: reg, running: map[int64]*run{}, base: base, cancel: cancel}
}

// run is a job running in this process.
type run struct {
	id        int64
	done      chan struct{}
	processed atomic.Int64
	total     atomic.Int64
	writing   atomic.Bool // inside the import's write transaction
}

// Job is an import as its starter sees it.
type Job struct {
	ID        int64  `json:"id"`
	Kind      Kind   `json:"kind"`
	Format    Format `json:"format"`
	File      string `json:"file"`
	Status    Status `json:"status"`
	Total     int    `json:"total"`
	Processed int    `json:"processed"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	// Problems are the file's problems (rejected); Error says why a failed
	// import failed.
	Problems     []Problem  `json:"problems"`
	MoreProblems int        `json:"more_problems,omitempty"`
	Error        string     `json:"error,omitempty"`
	UserID       int64      `json:"user_id,omitempty"`
	SchoolID     int64      `json:"school_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
}

// jobReport is what the imports table's report column holds.
type jobReport struct {
	File         string    `json:"file"`
	Problems     []Problem `json:"problems"`
	MoreProblems int       `json:"more_problems,omitempty"`
	Error        string    `json:"error,omitempty"`
	SchoolIDs    []int64   `json:"school_ids,omitempty"`
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Start checks the request, records a running job and imports the file in
// the background. A wrong kind or format, a file over MaxFileSize or a role
// without the import permission is refused at once; problems inside the file
// end up in the job.
func (j *Jobs) Start(ctx context.Context, p auth.Principal, kind Kind, format Format, filename string, data []byte) (Job, error) {
	kind, err := ParseKind(string(kind))
	if err != nil {
		return Job{}, err
	}
	if format, err = ParseFormat(string(format)); err != nil {
		return Job{}, err
	}
	if len(data) > MaxFileSize {
		return Job{}, tooLarge()
	}
	perm := auth.ImportSchools
	if kind == Pupils {
		perm = auth.ImportPupils
	}
	if err := p.Require(perm); err != nil {
		return Job{}, err
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return Job{}, errs.E(errs.Unavailable, "", "the server is shutting down; try again shortly")
	}
	j.wg.Add(1)
	j.mu.Unlock()
	now := j.Reg.Now()
	rep, _ := json.Marshal(jobReport{File: filename, Problems: []Problem{}})
	job := Job{Kind: kind, Format: format, File: filename, Status: Running, Problems: []Problem{}, UserID: p.UserID, CreatedAt: now.UTC()}
	err = j.Reg.DB.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, "INSERT INTO imports (kind, format, status, report, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			kind, format, Running, string(rep), nullID(p.UserID), store.Micros(now)).Scan(&job.ID)
	})
	if err != nil {
		j.wg.Done()
		return Job{}, errs.Wrap(err, "start import")
	}
	r := &run{id: job.ID, done: make(chan struct{})}
	j.mu.Lock()
	j.running[job.ID] = r
	j.mu.Unlock()
	go j.run(r, p, kind, File{Name: filename, Format: format, Body: bytes.NewReader(data)})
	return job, nil
}

func (j *Jobs) run(r *run, p auth.Principal, kind Kind, f File) {
	defer j.wg.Done()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		j.saveProgress(r, stop)
	}()
	rep, err := j.importSafely(r, p, kind, f)
	close(stop)
	<-stopped
	j.finish(r.id, rep, err)
	j.mu.Lock()
	delete(j.running, r.id)
	j.mu.Unlock()
	close(r.done)
}

// importSafely runs the import, turning a panic into a failed job rather
// than a crashed server.
func (j *Jobs) importSafely(r *run, p auth.Principal, kind Kind, f File) (rep Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep = Report{Kind: kind, File: f.Name, Status: Failed, Problems: []Problem{}}
			err = errs.Wrap(fmt.Errorf("panic: %v\n%s", v, debug.Stack()), "import failed")
		}
	}()
	return importFile(j.base, j.Reg, p, kind, f, func(done, total int) {
		r.processed.Store(int64(done))
		r.total.Store(int64(total))
	}, r)
}

// saveProgress writes the job's progress every ProgressEvery, for Get on
// other nodes. Where the database has one writer (SQLite) it waits while
// the import holds it (and there is only one node, whose Get reads the
// progress from memory).
func (j *Jobs) saveProgress(r *run, stop <-chan struct{}) {
	t := time.NewTicker(ProgressEvery)
	defer t.Stop()
	var last int64 = -1
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if r.writing.Load() && j.Reg.DB.Dialect.OneWriter() {
			continue
		}
		done, total := r.processed.Load(), r.total.Load()
		if done == last {
			continue
		}
		last = done
		// Progress is advisory: a failed write is retried on the next tick.
		j.Reg.DB.InTx(j.base, func(tx *store.Tx) error {
			_, err := tx.ExecContext(j.base, "UPDATE imports SET processed = ?, total = ? WHERE id = ? AND status = ?", done, total, r.id, Running)
			return err
		})
	}
}

// finish records how a job ended. It runs even when the job was cancelled at
// shutdown, so that the job does not stay "running" for ever.
func (j *Jobs) finish(id int64, rep Report, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(j.base), 30*time.Second)
	defer cancel()
	jr := jobReport{File: rep.File, Problems: rep.Problems, MoreProblems: rep.MoreProblems, SchoolIDs: rep.SchoolIDs}
	status := rep.Status
	if err != nil {
		status = Failed
		e := errs.As(err)
		jr.Error = e.Message
		if e.Code == errs.Internal {
			slog.Error("import failed", "job", id, "kind", rep.Kind, "err", err)
		}
	}
	data, _ := json.Marshal(jr)
	var school any
	if len(rep.SchoolIDs) == 1 {
		school = rep.SchoolIDs[0]
	}
	err = j.Reg.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE imports SET status = ?, total = ?, processed = ?, created = ?, updated = ?, unchanged = ?,
			report = ?, school_id = ?, finished_at = ? WHERE id = ?`,
			status, rep.Total, rep.Total, rep.Created, rep.Updated, rep.Unchanged, string(data), school, store.Micros(j.Reg.Now()), id)
		return err
	})
	if err != nil {
		slog.Error("import: record the outcome", "job", id, "err", err)
	}
}

// Get returns a job to the person who started it, or to a system
// administrator; for anyone else it does not exist.
func (j *Jobs) Get(ctx context.Context, p auth.Principal, id int64) (Job, error) {
	q := `SELECT id, kind, format, status, total, processed, created, updated, unchanged, report, COALESCE(user_id, 0), COALESCE(school_id, 0),
		created_at, finished_at FROM imports WHERE id = ?`
	args := []any{id}
	if p.Role != auth.RoleAdmin {
		if p.UserID == 0 {
			return Job{}, errs.NotFoundf("no import %d", id)
		}
		q += " AND user_id = ?"
		args = append(args, p.UserID)
	}
	var job Job
	var report string
	var created int64
	var finished sql.NullInt64
	err := j.Reg.DB.Reader().QueryRowContext(ctx, q, args...).Scan(&job.ID, &job.Kind, &job.Format, &job.Status, &job.Total, &job.Processed,
		&job.Created, &job.Updated, &job.Unchanged, &report, &job.UserID, &job.SchoolID, &created, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, errs.NotFoundf("no import %d", id)
	}
	if err != nil {
		return Job{}, errs.Wrap(err, "read import")
	}
	job.CreatedAt = store.FromMicros(created)
	job.FinishedAt = store.FromNullMicros(finished)
	var jr jobReport
	if err := json.Unmarshal([]byte(report), &jr); err == nil {
		job.File, job.Problems, job.MoreProblems, job.Error = jr.File, jr.Problems, jr.MoreProblems, jr.Error
	}
	if job.Problems == nil {
		job.Problems = []Problem{}
	}
	if job.Status == Running {
		j.mu.Lock()
		r := j.running[id]
		j.mu.Unlock()
		if r != nil {
			job.Processed, job.Total = int(r.processed.Load()), int(r.total.Load())
		}
	}
	return job, nil
}

// Wait blocks until a job started by this process has finished (at once for
// any other job), or ctx ends.
func (j *Jobs) Wait(ctx context.Context, id int64) error {
	j.mu.Lock()
	r := j.running[id]
	j.mu.Unlock()
	if r == nil {
		return nil
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown refuses new jobs and waits for the running ones; when ctx ends
// first it cancels them (their transactions roll back, they are recorded as
// failed) and returns ctx's error.
func (j *Jobs) Shutdown(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	all := make(chan struct{})
	go func() {
		j.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
		j.cancel()
		return nil
	case <-ctx.Done():
		j.cancel()
		<-all
		return ctx.Err()
	}
}

// Prune deletes the record of imports that finished before `before`. A
// refused import's report quotes the bad cells — phone numbers, e-mail
// addresses, card numbers — so it is not kept for ever. It says how many
// went.
func (j *Jobs) Prune(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := j.Reg.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM imports WHERE finished_at IS NOT NULL AND finished_at < ?", store.Micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// Run deletes, at start and then hourly until ctx ends, the record of
// imports that finished more than keep ago.
func (j *Jobs) Run(ctx context.Context, keep time.Duration, log *slog.Logger) {
	chore.Every(ctx, time.Hour, log, "old import records deleted", "rows", func(ctx context.Context) (int64, error) {
		return j.Prune(ctx, time.Now().Add(-keep))
	})
}
