-- Half of each page is left free when rows are inserted: room for a new
-- version of every row it holds, so that a refresh is a HOT update (0002).
ALTER TABLE {{.Tasks}} SET (fillfactor = 50)
