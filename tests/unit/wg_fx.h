/*
 * wg_fx.h - the keys of the WireGuard tests (test_wg_diff.c,
 * test_wg_parse.c) and the dump of interface wg0 both read.
 */
#ifndef ATLAS_WG_FX_H
#define ATLAS_WG_FX_H

#define PRIV "QLeQziCHMPxPMODnRdXO7rhLvKhOb2IGijIQW+512Hs="
#define PUB "CKEYgzQE7EHyRdSpNXhtmP2+CKeLrIPFYHHDzSLO7xQ="
#define ALICE "Nf44oO/zGsVc8wZ0+D22Q6KaYRxG6u262yTjj2hoS3w="
#define ALICE_PSK "FvQ11oD9CEoYczTcS1e5+2p6cup2eZv7kuT82shAoKI="
#define BOB "SMI+vzFskOD3Ze6J1NfZSKTYNl6n04yoYWV8okhN/BU="
#define CAROL "PX8XssQ5oNO85kN9+mv8/K7bw59nupIwFNZegSvckno="
#define DAVE "/7pSEd0oEhosGJokrl3kIkkX6xZn+PI1F/9LlmNF2Bc="
#define FOREIGN "+HsV6NMgOjnoACQXcqEr2fEWr5/7yr89hAXIgJ2HFFU="

/*
 * wg0 with bob and alice, peers in random order as wg-go prints them
 * (test_wg_diff.c's base_yaml is its desired state).
 */
static const char base_dump[] =
	PRIV "\t" PUB "\t51820\toff\n"
	BOB "\t(none)\t(none)\t10.8.0.3/32\t0\t0\t0\toff\n"
	ALICE "\t" ALICE_PSK "\t192.0.2.7:4000\t10.8.0.2/32\t1767268000\t1000\t2000\t25\n";

#endif
