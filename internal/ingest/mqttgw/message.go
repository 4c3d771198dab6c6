package mqttgw

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/errs"
)

// handle takes one message to the handler and acknowledges it when it is
// stored, or when it can never be.
func (g *Gateway) handle(ctx context.Context, j job) {
	id, kind, ok := g.clientIDOf(j.pub.Topic)
	if !ok || (kind == "passes" && g.cfg.Passes == nil) {
		// The filter lets nothing else through; a broker bug, then.
		g.drop(j, &g.stats.malformed, id, "topic", "mqtt message on an unexpected topic dropped", "topic", j.pub.Topic)
		return
	}
	var ev alarm.DeviceEvent
	var batch struct {
		Events []attendance.PassEvent `json:"events"`
	}
	limit, into, what := maxPayload, any(&ev), "a device event"
	if kind == "passes" {
		limit, into, what = maxPassPayload, &batch, "a batch of passes"
	}
	if len(j.pub.Payload) > limit {
		g.drop(j, &g.stats.malformed, id, "payload", "mqtt message dropped: payload too large", "kind", kind, "bytes", len(j.pub.Payload))
		return
	}
	if err := json.Unmarshal(j.pub.Payload, into); err != nil {
		g.drop(j, &g.stats.malformed, id, "payload", "mqtt message dropped: payload is not "+what, "err", err)
		return
	}

	ctx, cancel := context.WithTimeout(ctx, g.cfg.HandleTimeout)
	defer cancel()
	d, err := g.devices.DeviceByMQTTClientID(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		g.drop(j, &g.stats.unknown, id, "unknown", "mqtt message dropped: no device has this client id", "security", true)
		return
	}
	if err != nil {
		g.fail(j, id, err)
		return
	}
	if kind == "passes" {
		_, err = g.cfg.Passes.Record(ctx, d, batch.Events)
	} else {
		err = g.alarms.DeviceSignal(ctx, d, ev, "mqtt:"+id)
	}
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.TooLarge, errs.Forbidden:
		g.drop(j, &g.stats.malformed, id, "invalid", "mqtt message dropped: "+what+" refused", "kind", kind, "device_id", d.ID, "err", err)
		return
	}
	if err != nil {
		g.fail(j, id, err)
		return
	}
	g.succeeded.Store(true)
	g.ack(j)
	g.stats.handled.Add(1) // counted once acknowledged, as Stats says
}

// clientIDOf cuts the device's client id and the message kind (alarm or
// passes) out of prefix/devices/{id}/{kind}.
func (g *Gateway) clientIDOf(topic string) (id, kind string, ok bool) {
	rest, ok := strings.CutPrefix(topic, g.cfg.TopicPrefix+"/devices/")
	if !ok {
		return "", "", false
	}
	id, kind, ok = strings.Cut(rest, "/")
	if !ok || id == "" || (kind != "alarm" && kind != "passes") {
		return id, kind, false
	}
	return id, kind, true
}

// drop acknowledges a message that can never be stored: sent again, it
// would fail again, for ever.
func (g *Gateway) drop(j job, counter interface{ Add(uint64) uint64 }, id, reason, msg string, args ...any) {
	g.logLimited(slog.LevelWarn, id, reason, msg, append([]any{"client_id", id}, args...)...)
	g.ack(j)
	counter.Add(1)
}

// fail leaves a message unacknowledged and asks for the connection to be
// dropped, so that the broker delivers it again.
func (g *Gateway) fail(j job, id string, err error) {
	g.stats.failed.Add(1)
	g.logLimited(slog.LevelError, id, "failed", "mqtt message not stored; the broker will deliver it again", "client_id", id, "err", err)
	g.failedMu.Lock()
	g.failedOn = j.cli
	g.failedMu.Unlock()
	select {
	case g.retry <- struct{}{}:
	default: // a drop is pending already
	}
}

func (g *Gateway) ack(j job) {
	if j.pub.QoS == 0 {
		return
	}
	// After a reconnect the old connection cannot acknowledge any more; the
	// message comes again on the new one and is stored once.
	if err := j.cli.Ack(j.pub); err != nil {
		g.log.Debug("mqtt gateway: acknowledgement not sent", "topic", j.pub.Topic, "err", err)
	}
}
