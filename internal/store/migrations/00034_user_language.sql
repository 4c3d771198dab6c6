-- A person's language for the console, chosen with the language switch and
-- remembered on the person (NULL: not chosen; the browser's
-- Accept-Language decides), so that it follows them to another browser.

-- +goose Up
ALTER TABLE users ADD COLUMN language TEXT;

-- +goose Down
ALTER TABLE users DROP COLUMN language;
