"""The use cases every interface calls (the page, the JSON API, the OpenAI route, the command
line): speaking, submitting, reading jobs, downloads and the sweep.

May import: queue/ and everything below; never api/ or the composition roots."""
