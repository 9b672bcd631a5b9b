/* SPDX-License-Identifier: BSD-3-Clause */
/* `fragnetctl apps`: one line per application, with its queues added up. */
#include "report_cmd.h"

#define TEXT "generation {generation} published (nftables generation {nft_generation}), " \
	"{n_apps} application(s)\n{apps}"
#define HEAD "{'NAME':-16} {'PID':8} {'UID':6} {'QUEUES':6} {'GENERATION':10} {'RX':12} " \
	"{'TX':12} {'DROPS':10}  STATE\n"
#define ROW "{name:-16} {pid:8} {uid:6} {queues:6} {generation:10} {rx_packets:12} " \
	"{tx_packets:12} {drops:10}  {state}\n{kernel}"

struct fnd_doc *fnd_report_apps(const struct fnd_query *q)
{
	struct fnd_doc *doc = fnd_doc_new(TEXT);
	struct fnd_field *root = fnd_doc_root(doc), *apps;

	fnd_field_u64(root, "generation", q->generation);
	fnd_field_u64(root, "nft_generation", q->nft_generation);
	fnd_field_textf(root, "n_apps", "%zu", q->n_apps);
	apps = fnd_field_list(root, "apps", HEAD);
	for (size_t i = 0; i < q->n_apps; i++) {
		struct fnd_field *app = fnd_field_object(apps, NULL, ROW);

		fnd_report_app(app, &q->apps[i]);
		fnd_report_totals(app, &q->apps[i]);
		fnd_report_kernel(app, &q->apps[i]);
	}
	return doc;
}
