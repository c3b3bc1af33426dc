-- 007: the text of the newest generation in pieces (state/store_text.c).
-- Its row in generations holds "#atlas-text v1 len=L" and its YAML is the
-- concatenation of these bodies in seq order, pieces of about 16 KB cut at
-- line ends, so that an edit rewrites the pieces it changed instead of the
-- whole text. A database written before keeps its newest row whole until
-- the next save.
CREATE TABLE generation_text (
	seq INTEGER PRIMARY KEY,
	body TEXT NOT NULL
);
