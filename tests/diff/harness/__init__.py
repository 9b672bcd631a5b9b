"""Kernel differential harness for the libfragnet nftables interpreter."""
