"""HTTP servers the tests start on 127.0.0.1: a fault-injecting OpenAI stub and llama.cpp's server."""
