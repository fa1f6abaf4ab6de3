"""Running a job or a book's part to its end in whichever process holds it: the two runners
(a book's turns in `book_runner`, with `part_maker`, `book_joining` and `book_leases`), the
lease on what they run, and what a failure means for the job.

May import: jobs/ and everything below; never queue/, services/ or above."""
