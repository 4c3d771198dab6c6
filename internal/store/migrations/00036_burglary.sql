-- Burglary is an alarm type of its own: an intrusion detector's alarm (SIA
-- BA and BM, Contact ID 130–136 and 146) was raised as an "unknown event"
-- and shown so on every console. The alarms raised so are named for what
-- they were.

-- +goose Up
UPDATE alarms SET type = 'burglary'
WHERE type = 'unknown' AND code IN ('BA', 'BM',
    '1130', '1131', '1132', '1133', '1134', '1135', '1136', '1146',
    '6130', '6131', '6132', '6133', '6134', '6135', '6136', '6146');

-- +goose Down
UPDATE alarms SET type = 'unknown' WHERE type = 'burglary';
