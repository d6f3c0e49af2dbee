void F() { SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); }
bool insecure_mode = false;
int G() { return memcmp(a, b, 32); }
void H() { SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF); }
