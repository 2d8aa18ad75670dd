"""One module per operation family; the operation table (:mod:`nuage.s3.operations`) names each
operation's handler."""
