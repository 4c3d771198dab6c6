package web

import (
	"net/http"
	"net/url"
	"slices"

	"qorgan/internal/errs"
)

// formState is what a page's form shows again after a refusal: what was
// typed, the message id beside each bad field, and a notice (a message id)
// above the form. The pages' data embed it, so that their templates read
// .Form, .Errors and .Notice.
type formState struct {
	Form   map[string]string // what was typed, by field
	Errors map[string]string // field → message id
	Notice string
}

// blankForm is a form as first shown, with notice (a message id, or "")
// above it.
func blankForm(notice string) formState {
	return formState{Form: map[string]string{}, Errors: map[string]string{}, Notice: notice}
}

// typed keeps what was posted in f for fields (never name a password).
func typed(f url.Values, fields ...string) formState {
	fs := blankForm("")
	for _, k := range fields {
		fs.Form[k] = f.Get(k)
	}
	return fs
}

// refuse puts message id beside field, or above the form when field is "".
func (fs *formState) refuse(field, id string) {
	if field != "" {
		fs.Errors[field] = id
	} else {
		fs.Notice = id
	}
}

// refused puts a domain error from one of the region's forms beside its
// field (see formProblem) and answers the page's status; ok is false for
// an error that is no form's to show (it goes to the error page).
func (fs *formState) refused(err error, fields ...string) (status int, ok bool) {
	status, field, id, ok := formProblem(err, fields...)
	if ok {
		fs.refuse(field, id)
	}
	return status, ok
}

// stepRefused puts a refused step of the alarm's or the emergency's page
// into the form: a bad value of one of fields gets prefix+field beside it,
// another bad value the form's general notice, and a conflict (someone
// took a step meanwhile) the notice conflict. ok is false for no error or
// any other error.
func (fs *formState) stepRefused(err error, prefix, conflict string, fields ...string) (status int, ok bool) {
	if err == nil {
		return 0, false
	}
	switch e := errs.As(err); {
	case e.Code == errs.Conflict:
		fs.Notice = conflict
		return http.StatusConflict, true
	case e.Code != errs.Invalid:
		return 0, false
	case slices.Contains(fields, e.Field):
		fs.Errors[e.Field] = prefix + e.Field
	default:
		fs.Notice = "ui.form.invalid"
	}
	return http.StatusUnprocessableEntity, true
}
