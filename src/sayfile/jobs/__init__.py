"""A job's life around its record: the lifecycle (every change of status), events to whoever
waits, the storage quota, a process's admission, answers kept in memory, download names.

May import: store/, speech/, books/ and everything below them."""
