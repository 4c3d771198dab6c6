package web

import (
	"context"
	"net/http"
	"strconv"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

// personal is a handler for a signed-in person.
type personal = func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// The shapes most routes share, written once: the path's {id} (or the
// signed-in person alone) and the JSON body to a domain call, the result as
// JSON.

// byID answers with what get returns for the path's id.
func byID[T any](get func(context.Context, auth.Principal, int64) (T, error)) personal {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		_, x, err := getByID(r, p, get)
		return reply(w, http.StatusOK, x, err)
	}
}

// stepByID answers POST …/{id}/{name}, a step on the record the path's id
// names: the body, which may be left out, is decoded, then do takes the
// step the path names, and what it returns is answered 200.
func stepByID[In, Out any](name string, do func(ctx context.Context, p auth.Principal, id int64, step string, in In) (Out, error)) personal {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var in In
		id, err := idAndOptionalBody(w, r, &in)
		if err != nil {
			return err
		}
		x, err := do(r.Context(), p, id, r.PathValue(name), in)
		return reply(w, http.StatusOK, x, err)
	}
}

// getByID reads the path's id and what get returns for it: the opening
// of a handler or a page that does more with it than answer it.
func getByID[T any](r *http.Request, p auth.Principal, get func(context.Context, auth.Principal, int64) (T, error)) (int64, T, error) {
	id, err := pathID(r, "id")
	if err != nil {
		var zero T
		return 0, zero, err
	}
	x, err := get(r.Context(), p, id)
	return id, x, err
}

// listByID answers with the list get returns for the path's id, as
// {"items": […]}.
func listByID[T any](get func(context.Context, auth.Principal, int64) ([]T, error)) personal {
	return byID(func(ctx context.Context, p auth.Principal, id int64) (registry.List[T], error) {
		xs, err := get(ctx, p, id)
		return registry.List[T]{Items: xs}, err
	})
}

// bodyByID decodes the JSON body and answers with status and what put
// returns for the path's id and the body.
func bodyByID[In, Out any](status int, put func(context.Context, auth.Principal, int64, In) (Out, error)) personal {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var in In
		id, err := idAndBody(w, r, &in)
		if err != nil {
			return err
		}
		x, err := put(r.Context(), p, id, in)
		return reply(w, status, x, err)
	}
}

// forPerson answers with what get returns for the signed-in person.
func forPerson[T any](get func(context.Context, auth.Principal) (T, error)) personal {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		x, err := get(r.Context(), p)
		return reply(w, http.StatusOK, x, err)
	}
}

// forPersonStatus is forPerson answering with status (an action with no
// body, e.g. 201 for what it created).
func forPersonStatus[T any](status int, do func(context.Context, auth.Principal) (T, error)) personal {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		x, err := do(r.Context(), p)
		return reply(w, status, x, err)
	}
}

// listForPerson answers with the list get returns, as {"items": […]}.
func listForPerson[T any](get func(context.Context, auth.Principal) ([]T, error)) personal {
	return forPerson(func(ctx context.Context, p auth.Principal) (registry.List[T], error) {
		xs, err := get(ctx, p)
		return registry.List[T]{Items: xs}, err
	})
}

// bodyForPerson decodes the JSON body and answers with status and what put
// returns for it.
func bodyForPerson[In, Out any](status int, put func(context.Context, auth.Principal, In) (Out, error)) personal {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		var in In
		if err := decode(w, r, &in); err != nil {
			return err
		}
		x, err := put(r.Context(), p, in)
		return reply(w, status, x, err)
	}
}

// reply answers with status and x, or, when err is not nil, returns err
// for the problem document and writes nothing.
func reply(w http.ResponseWriter, status int, x any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, x)
	return nil
}

// idAndBody reads the path's id, then the JSON body into v: a bad id is
// not found before the body is read.
func idAndBody(w http.ResponseWriter, r *http.Request, v any) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	return id, decode(w, r, v)
}

// idAndOptionalBody is idAndBody for an action whose body may be left out:
// an empty body leaves v as it is.
func idAndOptionalBody(w http.ResponseWriter, r *http.Request, v any) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil || r.ContentLength == 0 {
		return id, err
	}
	return id, decode(w, r, v)
}

// pathID reads a numeric path parameter; anything else is simply not found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFoundf("no %s %q", name, r.PathValue(name))
	}
	return id, nil
}

func pageOf(r *http.Request) (registry.Page, error) {
	q := r.URL.Query()
	pg := registry.Page{Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return pg, errs.Invalidf("limit", "limit must be a positive integer, got %q", l)
		}
		pg.Limit = n
	}
	return pg, nil
}
