"""One module or package per channel: parse inbound, render and send outbound, classify errors."""
