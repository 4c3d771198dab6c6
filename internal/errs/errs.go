// Package errs holds Qorgan's typed errors. Domain packages return them; the
// HTTP layer maps each Code to a status in exactly one place (web/problem.go),
// the CLI prints Message. Internal detail stays in Err and goes to the log.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the caller.
type Code string

const (
	Invalid      Code = "invalid"      // the input is wrong; Field says where
	NotFound     Code = "not_found"    // absent, or outside the caller's scope
	Conflict     Code = "conflict"     // a duplicate external key, a state that forbids the change
	Unauthorized Code = "unauthorized" // not signed in, bad credentials
	Forbidden    Code = "forbidden"    // signed in, but the role may not do this (in scope)
	TooLarge     Code = "too_large"    // a body or file over the limit
	TooMany      Code = "too_many"     // the caller has made too many attempts; RetryAfter says when to try again
	Unavailable  Code = "unavailable"  // a dependency is down; retry later
	Internal     Code = "internal"     // a bug or an unexpected failure
)

// Error is a typed error with a message safe to show to the caller.
type Error struct {
	Code    Code
	Field   string // the offending field, JSON pointer-ish ("bin", "guardians/0/phone")
	Message string // safe for the caller
	Err     error  // internal cause, logged, never sent
	// RetryAfter, when positive, tells the caller when to try again
	// (TooMany, Unavailable); HTTP sends it as Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Field != "" {
		s += " " + e.Field
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a formatted message.
func E(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalidf reports bad input in field.
func Invalidf(field, format string, args ...any) *Error {
	return E(Invalid, field, format, args...)
}

// NotFoundf reports something absent or out of scope.
func NotFoundf(format string, args ...any) *Error { return E(NotFound, "", format, args...) }

// Wrap marks an unexpected failure as internal, keeping the cause for the log.
func Wrap(err error, msg string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: Internal, Message: msg, Err: err}
}

// CodeOf returns the code of err, Internal for untyped errors.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as *Error, wrapping untyped errors as Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}

// List is several problems with one input, reported together so that a
// person fixes them in one go. Its code and field are the first one's.
type List []*Error

func (l List) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	if len(l) == 1 {
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", l[0].Error(), len(l)-1)
}

// Unwrap gives the first problem to errors.As.
func (l List) Unwrap() error {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

// Of returns nil for no problems, the problem itself for one, a List for more.
func Of(problems []*Error) error {
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return problems[0]
	}
	return List(problems)
}
