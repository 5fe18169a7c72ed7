/* Keeps libsluice_tcp_pure non-empty while its modules are being added. */
int tcp_pure_anchor;
