/*
 * ovpn_pki_bench.c - times the OpenVPN PKI: issuing N client certificates
 * (keys, certificates, one index write) and regenerating a CRL with N
 * revoked entries. Built and run by bench/ovpn.sh; prints figures only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "controller/openvpn/pki.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp/atlas-bench-pki";
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	struct pki_index idx = { 0 };
	struct atlas_err err = { 0 };
	double t0, t1;
	char name[32];

	if (pki_create_ca(dir, "Bench CA", &err) < 0)
		goto fail;
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "client%04d", i);
		if (pki_issue(dir, &idx, name, 0, &err) < 0)
			goto fail;
	}
	if (pki_index_write(dir, &idx, &err) < 0)
		goto fail;
	t1 = now_s();
	printf("ovpn: issue %d client certificates: %.2f s (%.2f ms each)\n", n, t1 - t0,
	       (t1 - t0) * 1000 / n);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "client%04d", i);
		if (pki_revoke(dir, &idx, name, time(NULL), &err) < 0)
			goto fail;
	}
	if (pki_index_write(dir, &idx, &err) < 0)
		goto fail;
	t0 = now_s();
	if (pki_write_crl(dir, &idx, time(NULL), &err) < 0)
		goto fail;
	t1 = now_s();
	printf("ovpn: regenerate a CRL with %d revoked entries: %.1f ms\n", n, (t1 - t0) * 1000);
	{
		struct pki_crl_info info;

		t0 = now_s();
		if (pki_crl_inspect(dir, &idx, &info, &err) < 0)
			goto fail;
		t1 = now_s();
		printf("ovpn: inspect that CRL against the index (every plan does): %.1f ms (%zu "
		       "entries, matches=%d)\n",
		       (t1 - t0) * 1000, info.nrevoked, info.matches);
	}
	pki_index_release(&idx);
	return 0;
fail:
	fprintf(stderr, "bench: %s\n", err.msg);
	return 1;
}
