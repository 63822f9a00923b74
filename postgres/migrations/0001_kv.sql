-- The whole store: one ordered table. bytea compares bytewise (memcmp,
-- then length), which is exactly kv's key order, so the primary key's
-- B-tree serves every range scan in order.
CREATE TABLE kv (
	k bytea PRIMARY KEY,
	v bytea NOT NULL
);
-- Values are ciphertext from the barrier and never compress; EXTERNAL
-- stores large ones out of line without trying.
ALTER TABLE kv ALTER COLUMN v SET STORAGE EXTERNAL;
