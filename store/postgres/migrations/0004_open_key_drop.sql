-- The open-key index takes the lock order, (variant, shop, domain) in byte
-- order, for its columns (0005): a call reads the pairs in the order of the
-- action-vector primary key, (variant, shop), and writes its tasks in the
-- same order, so neither needs a sort and the index grows where the call
-- writes. Migrate applies every pending migration in one transaction: the
-- table keeps its uniqueness throughout, and its writes wait for the new
-- index to be built. (One statement a file, for Citus.)
DROP INDEX IF EXISTS {{.OpenKeyIndexTable}}
