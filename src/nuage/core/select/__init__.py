"""S3 Select over one stored object: the SQL dialect translated onto DuckDB, the input readers and the
output writers. No HTTP here: the S3 layer frames the results as an event stream."""
