-- The speaker of a message: a transcript between two people posts both sides as role `user`, each with a name.
ALTER TABLE messages ADD COLUMN name text;
