/*
 * driver.c - runs a fuzz target without libFuzzer: each file named on the
 * command line once (the seed corpus under ASan, in `make test`). Prints
 * "fuzz-seed: NAME: N inputs"; a crash or a sanitizer report ends it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		struct buf b = BUF_INIT;
		struct atlas_err err = { 0 };

		if (file_read(argv[i], 1 << 24, &b, &err) < 0) {
			fprintf(stderr, "%s: %s\n", argv[0], err.msg);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf_str(&b), b.len);
		buf_release(&b);
		n++;
	}
	printf("fuzz-seed: %s: %d inputs\n", argv[0], n);
	return 0;
}
