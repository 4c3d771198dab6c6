// Package registry is the record of who and what Qorgan protects: regions and
// districts, schools, pupils with their guardians, staff, devices, security
// providers with their contracts and police units with their jurisdictions.
// Every read takes the caller's auth.Principal and filters by its scope in SQL.
package registry

import (
	"encoding/base64"
	"strconv"
	"time"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/kztime"
	"qorgan/internal/store"
)

// Registry reads and writes the registry.
type Registry struct {
	DB   *store.DB
	Auth *auth.Service
	Now  func() time.Time
	// Records are the other domains' records about pupils, which an export
	// or an erasure of a pupil reaches too.
	Records []PupilRecords
}

// New returns a Registry using the wall clock.
func New(db *store.DB, a *auth.Service) *Registry { return &Registry{DB: db, Auth: a, Now: time.Now} }

func (r *Registry) today() time.Time { return kztime.Today(r.Now()) }

// Page asks for one page of a list: the items after Cursor, at most Limit.
type Page struct {
	Cursor string
	Limit  int
}

// MaxLimit caps a page.
const MaxLimit = 500

// after decodes the cursor into the last id seen.
func (p Page) after() (int64, int, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > MaxLimit {
		return 0, 0, errs.Invalidf("limit", "limit must be at most %d", MaxLimit)
	}
	if p.Cursor == "" {
		return 0, limit, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil {
		return 0, 0, errs.Invalidf("cursor", "cursor is not one this server gave")
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || id < 0 {
		return 0, 0, errs.Invalidf("cursor", "cursor is not one this server gave")
	}
	return id, limit, nil
}

func cursorFor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// List is one page of results and the cursor of the next (empty at the end).
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// page trims a result fetched with limit+1 rows into a List.
func page[T any](items []T, limit int, id func(T) int64) List[T] {
	if items == nil {
		items = []T{}
	}
	if len(items) > limit {
		items = items[:limit]
		return List[T]{Items: items, NextCursor: cursorFor(id(items[len(items)-1]))}
	}
	return List[T]{Items: items}
}
