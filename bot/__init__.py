"""The Peerline application: settings, wiring, router, outbox sender, scheduler, web edge, CLI."""
