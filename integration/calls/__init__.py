"""The call domain: a live call's record (caller view, tool results, transcript, hand-over,
end), kept in the layer's store so any worker serves any request of any call, and the use
cases on it (start, turns, end, answering a voice platform). The HTTP routes in
``integration.api`` only translate requests to these."""
