"""libnftables through ctypes: load rulesets and list them as JSON from
inside the current network namespace (the context keeps the netlink socket
of the namespace it was created in)."""
import ctypes
import json

_lib = ctypes.CDLL("libnftables.so.1")
_lib.nft_ctx_new.restype = ctypes.c_void_p
_lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
_lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
_lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
_lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
_lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
_lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
_lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
_lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
_lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]

OUTPUT_HANDLE = 1 << 3
OUTPUT_JSON = 1 << 4


class NftError(RuntimeError):
    pass


class Nft:
    def __init__(self):
        self.ctx = _lib.nft_ctx_new(0)
        _lib.nft_ctx_buffer_output(self.ctx)
        _lib.nft_ctx_buffer_error(self.ctx)

    def run(self, cmd, as_json=False):
        _lib.nft_ctx_output_set_flags(self.ctx, OUTPUT_HANDLE | (OUTPUT_JSON if as_json else 0))
        rc = _lib.nft_run_cmd_from_buffer(self.ctx, cmd.encode())
        out = (_lib.nft_ctx_get_output_buffer(self.ctx) or b"").decode()
        err = (_lib.nft_ctx_get_error_buffer(self.ctx) or b"").decode()
        if rc != 0:
            raise NftError(err.strip() or "nft failed")
        return json.loads(out) if as_json else out

    def close(self):
        if self.ctx:
            _lib.nft_ctx_free(self.ctx)
            self.ctx = None
