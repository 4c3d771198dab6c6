-- The roadmap keeps each school's evaluation in memory and reads, at each
-- request, only the rows stamped since its last read: these indexes make
-- that read touch the changed rows, not every device and school.
-- (device_status is left without one: it is the alarm lane's table, and
-- holds only supervised devices.)

-- +goose Up
CREATE INDEX devices_updated ON devices(updated_at);
CREATE INDEX schools_updated ON schools(updated_at);
CREATE INDEX contracts_created ON contracts(created_at);
CREATE INDEX roadmap_declarations_declared ON roadmap_declarations(declared_at);

-- +goose Down
DROP INDEX roadmap_declarations_declared;
DROP INDEX contracts_created;
DROP INDEX schools_updated;
DROP INDEX devices_updated;
