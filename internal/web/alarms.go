package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
)

func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	all := r.URL.Query().Get("all") == "true"
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return errs.Invalidf("limit", "limit must be 1–500")
		}
		limit = n
	}
	xs, err := s.Alarms.List(r.Context(), p, all, limit)
	return reply(w, http.StatusOK, registry.List[alarm.Alarm]{Items: xs}, err)
}

func (s *Server) getAlarm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return byID(s.Alarms.Get)(w, r, p)
}

// alarmStepRequest is the body of an alarm step. note and notes are free
// text a person writes (text:"lines": tabs and line breaks allowed, see
// checkText); the other members are one line.
type alarmStepRequest struct {
	Responder  string `json:"responder,omitempty"`
	Note       string `json:"note,omitempty" text:"lines"`
	Resolution string `json:"resolution,omitempty"`
	Notes      string `json:"notes,omitempty" text:"lines"`
}

// alarmStep is the step of POST /api/v1/alarms/{id}/{step}.
func (s *Server) alarmStep(ctx context.Context, p auth.Principal, id int64, step string, req alarmStepRequest) (alarm.Alarm, error) {
	switch step {
	case "acknowledge":
		return s.Alarms.Acknowledge(ctx, p, id)
	case "dispatch":
		return s.Alarms.Dispatch(ctx, p, id, req.Responder)
	case "on-site":
		return s.Alarms.ArriveOnSite(ctx, p, id, req.Note)
	case "resolve":
		return s.Alarms.Resolve(ctx, p, id, req.Resolution, req.Notes)
	}
	return alarm.Alarm{}, errs.NotFoundf("no alarm step %q (acknowledge, dispatch, on-site, resolve)", step)
}

type panicRequest struct {
	Silent    bool   `json:"silent"`
	RequestID string `json:"request_id"`
	Note      string `json:"note,omitempty" text:"lines"` // free text
}

func (s *Server) staffPanic(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyByID(http.StatusAccepted, func(ctx context.Context, p auth.Principal, id int64, req panicRequest) (map[string]string, error) {
		err := s.Alarms.StaffPanic(ctx, p, id, req.Silent, req.RequestID, req.Note)
		return map[string]string{"status": "raised"}, err
	})(w, r, p)
}

// deviceEvent is the device webhook: an event from a device authenticated
// by its own credential (see asDevice).
func (s *Server) deviceEvent(w http.ResponseWriter, r *http.Request, d registry.Device) error {
	var ev alarm.DeviceEvent
	if err := decode(w, r, &ev); err != nil {
		return err
	}
	err := s.Alarms.DeviceSignal(r.Context(), d, ev, r.RemoteAddr)
	return reply(w, http.StatusAccepted, map[string]string{"status": "stored"}, err)
}

func (s *Server) alarmStats(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	to := time.Now()
	from := to.Add(-30 * 24 * time.Hour)
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return errs.Invalidf("from", "from must be an RFC 3339 time")
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return errs.Invalidf("to", "to must be an RFC 3339 time")
		}
	}
	cards, err := s.Alarms.Stats(r.Context(), p, from, to)
	return reply(w, http.StatusOK, registry.List[alarm.Scorecard]{Items: cards}, err)
}

// live is the consoles' Server-Sent Events stream: each signed-in person gets
// the alarm events in their scope as they happen. A reconnecting console sends
// Last-Event-ID and gets everything it missed; a new one starts from now
// (or from ?after=0 for the whole history).
func (s *Server) live(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := p.Require(auth.ReadAlarms); err != nil {
		return err
	}
	ctx := r.Context()
	after := int64(-1)
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errs.Invalidf("Last-Event-ID", "the last event id must be a number, got %q", v)
		}
		after = n
		break
	}
	if after < 0 {
		n, err := s.Alarms.LatestSeq(ctx)
		if err != nil {
			return errs.Wrap(err, "live")
		}
		after = n
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream has no write deadline
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: qorgan live, after %d\n\n", after)
	rc.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	// A console's stream keeps its session in use (the operator watching
	// an empty queue at night is not idle), and ends when the session does
	// (signed out, disabled, expired): the page then asks to sign in.
	var cookie string
	if c, err := r.Cookie(sessionCookie); err == nil {
		cookie = c.Value
	}
	// The node's one reader of the feed hands the stream its events from
	// memory (alarm.Fanout); a cursor older than what it holds reads the
	// store until it has caught up.
	fan := s.Alarms.Fanout()
	defer fan.Subscribe()()
	for {
		wake, committed := fan.Moved(), s.Alarms.Bus().Wait()
		frames, next, ok := fan.Since(p, after, 500)
		var evs []alarm.LiveEvent
		more := false // more may follow at once
		if ok {
			evs = make([]alarm.LiveEvent, len(frames))
			for i := range frames {
				w.Write(frames[i].SSE)
				evs[i] = frames[i].LiveEvent
			}
			more = len(frames) == 500
		} else {
			var err error
			if evs, next, err = s.Alarms.Feed(ctx, p, after, 500); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.Log.Error("live feed", "err", err)
				return nil
			}
			for _, e := range evs {
				w.Write(e.EncodeSSE())
			}
			// Catching up with the store: read again at once, until the
			// reader's memory holds what follows (or it has read nothing yet).
			more = next != after
		}
		if ok {
			committed = nil // the reader wakes this stream (wake)
		}
		after = next
		if len(evs) > 0 {
			if err := rc.Flush(); err != nil {
				return nil
			}
			s.Alarms.Delivered(context.WithoutCancel(ctx), evs)
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.ending:
			return nil // shutting down
		case <-wake:
		case <-committed: // reading the store itself: this node's commits wake it too
		case <-heartbeat.C:
			if cookie != "" {
				if _, err := s.Auth.Session(ctx, cookie); err != nil {
					return nil
				}
			}
			fmt.Fprint(w, ": ping\n\n")
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
	}
}
