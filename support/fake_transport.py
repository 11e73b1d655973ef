"""An asyncio transport that keeps what a protocol writes, for in-process
tests of the gateway's HTTP protocol on uvicorn's own code."""
import asyncio


class StandInTransport(asyncio.Transport):
    def __init__(self):
        super().__init__()
        self.written, self.closed, self.eof = b"", False, False

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 5), "sockname": ("127.0.0.1", 8)}.get(
            name, default)

    def write(self, data):
        self.written += data

    def can_write_eof(self):
        return True

    def write_eof(self):
        self.eof = True

    def close(self):
        self.closed = True

    def is_closing(self):
        return self.closed

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass
