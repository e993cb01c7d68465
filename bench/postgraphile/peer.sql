-- What PostGraphile needs beside the service's schema, run by the bench (bench/peer.py)
-- on the bench's own throwaway copy of the database, never by the service's migrations.
-- {service} is the service's schema, {peer} the peer's, {application} the peer's
-- connections' application_name.

CREATE SCHEMA {peer};

-- `isRegistered` for the caller named by the verified token, as a computed column.
CREATE FUNCTION {peer}.sessions_is_registered(s {service}.sessions) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM {service}.registrations r
    WHERE r.session_id = s.id
      AND r.user_id = current_setting('jwt.claims.sub', true)
      AND r.status = 'registered'
  )
$$;

-- The service fills these in Python and always sends them, so a default changes nothing
-- for it; PostGraphile's generated createSession leaves them to the database, as a
-- schema designed for it would. The client sends the same six fields to both.
ALTER TABLE {service}.sessions
  ALTER COLUMN id SET DEFAULT gen_random_uuid()::text,
  ALTER COLUMN kind SET DEFAULT 'live',
  ALTER COLUMN status SET DEFAULT 'scheduled',
  ALTER COLUMN metadata SET DEFAULT '{}',
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN updated_at SET DEFAULT now(),
  ALTER COLUMN registered_count SET DEFAULT 0;

-- Creating a session takes what the service asks of the caller: the `sessions:write`
-- scope and being its host. PostGraphile users say this with a policy or a trigger; a
-- trigger needs no role of its own. Only the peer's connections are checked, so the
-- service's inserts pay one comparison.
CREATE FUNCTION {peer}.authorize_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.host_id IS DISTINCT FROM current_setting('jwt.claims.sub', true)
     OR NOT coalesce(
       'sessions:write' = ANY (string_to_array(current_setting('jwt.claims.scope', true), ' ')),
       false
     ) THEN
    RAISE EXCEPTION 'only the host may create its sessions' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER peer_authorize_create BEFORE INSERT ON {service}.sessions FOR EACH ROW
  WHEN (current_setting('application_name') = {application})
  EXECUTE FUNCTION {peer}.authorize_create();
