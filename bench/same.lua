-- wrk script: POST /speech with the same text every time (after the first, each is a cache hit).
wrk.method = "POST"
wrk.body = '{"text": "The same order is ready for pickup at the front desk; thank you for waiting, friend.", "voice": "espeak:en-us", "format": "mp3"}'
wrk.headers["Content-Type"] = "application/json"
