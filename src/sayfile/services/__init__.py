"""The use cases the HTTP interfaces call (the page, the JSON API, the OpenAI route), one
concern to a module: the limits of a request by purpose (limits.py), speech for someone
waiting (speaking.py), jobs entering and leaving (submitting.py) and requested as text or book
(job_requests.py), reading a job (reading.py), its files (downloads.py), the sweep
(sweeping.py), the catalogue (catalogue_queries.py) and the server's state (status.py).

May import: queue/ and everything below; never api/ or the composition roots."""
