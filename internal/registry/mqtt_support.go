package registry

import (
	"context"
	"database/sql"
	"errors"

	"qorgan/internal/errs"
)

// DeviceByMQTTClientID finds a device by the client id it uses at the MQTT
// broker (for the MQTT gateway; no scope: the gateway acts for the
// installation, and the broker has authenticated the device).
func (r *Registry) DeviceByMQTTClientID(ctx context.Context, id string) (Device, error) {
	if id == "" {
		return Device{}, errs.NotFoundf("no device with an empty MQTT client id")
	}
	d, err := scanDevice(r.DB.Reader().QueryRowContext(ctx, "SELECT "+deviceCols+" FROM devices d WHERE d.mqtt_client_id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, errs.NotFoundf("no device with MQTT client id %q", id)
	}
	if err != nil {
		// Not the device's fault: the message must be retried, not dropped.
		return Device{}, errs.Wrap(err, "device by MQTT client id")
	}
	return d, nil
}
