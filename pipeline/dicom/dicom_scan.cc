// sp_dicom_scan_path: walk, read headers (in parallel), group.
#include <new>
#include <string>
#include <vector>

#include "spinepipe/parallel.h"

#include "dicom_internal.h"

namespace {

// The walk only lists files; each file's header is read on a worker thread
// into its own collection, and the collections are merged in walk order,
// so records and skips come out exactly as a serial scan makes them.
struct Listing {
    std::vector<std::string> files;
    std::vector<size_t> skips_before; // walk skips recorded before each file
    const spd_collect *walk;
};

struct Headers {
    const Listing *list;
    std::vector<spd_collect> per_file;
    std::vector<sp_status> status;
};

sp_status list_file(const char *file, void *ctx)
{
    Listing *l = static_cast<Listing *>(ctx);
    try {
        l->files.emplace_back(file);
        l->skips_before.push_back(l->walk->n_skipped);
    } catch (...) {
        return SP_NOMEM;
    }
    return SP_OK;
}

void read_range(void *arg, size_t begin, size_t end)
{
    Headers *h = static_cast<Headers *>(arg);
    for (size_t i = begin; i < end; i++) {
        try {
            h->status[i] = spd_read_header(h->list->files[i].c_str(),
                                           &h->per_file[i]);
        } catch (...) {
            h->status[i] = SP_INTERNAL;
        }
    }
}

sp_status copy_skips(spd_collect *dst, const spd_collect *src, size_t begin,
                     size_t end)
{
    for (size_t i = begin; i < end; i++) {
        const sp_dicom_skipped *s = &src->skipped[i];
        sp_status st = spd_collect_skip(dst, s->path, s->code, s->reason);
        if (st != SP_OK)
            return st;
    }
    return SP_OK;
}

// Walk skips and each file's records and skips, in the order of the walk.
sp_status merge(const Listing &l, const Headers &h, spd_collect *out)
{
    size_t records = 0, skipped = l.walk->n_skipped;
    for (const spd_collect &f : h.per_file) {
        records += f.n_records;
        skipped += f.n_skipped;
    }
    // Sized once: growing by doubling copied the records again and again.
    sp_status reserved = spd_collect_reserve(out, records, skipped);
    if (reserved != SP_OK)
        return reserved;
    size_t walk_next = 0;
    for (size_t i = 0; i < l.files.size(); i++) {
        sp_status st = copy_skips(out, l.walk, walk_next, l.skips_before[i]);
        walk_next = l.skips_before[i];
        if (st == SP_OK)
            st = h.status[i];
        const spd_collect *f = &h.per_file[i];
        for (size_t r = 0; r < f->n_records && st == SP_OK; r++)
            st = spd_collect_record(out, &f->records[r]);
        if (st == SP_OK)
            st = copy_skips(out, f, 0, f->n_skipped);
        if (st != SP_OK)
            return st;
    }
    return copy_skips(out, l.walk, walk_next, l.walk->n_skipped);
}

sp_status scan_files(const char *path, const sp_dicom_scan_options *options,
                     spd_collect *out, sp_error *err)
{
    spd_collect walk = {};
    Listing list;
    list.walk = &walk;
    sp_status st = spd_walk(path, options, &walk, list_file, &list, err);
    if (st == SP_OK) {
        Headers h;
        h.list = &list;
        h.per_file.assign(list.files.size(), spd_collect{});
        h.status.assign(list.files.size(), SP_OK);
        sp_parallel_for(list.files.size(), 0, read_range, &h);
        st = merge(list, h, out);
        for (spd_collect &c : h.per_file)
            spd_collect_free(&c);
        if (st != SP_OK)
            st = sp_error_set(err, st, "%s: scan failed: %s", path,
                              sp_status_message(st));
    }
    spd_collect_free(&walk);
    return st;
}

} // namespace

extern "C" sp_status sp_dicom_scan_path(const char *path,
                                        const sp_dicom_scan_options *options,
                                        sp_dicom_scan **scan, sp_error *err)
{
    if (!scan)
        return sp_error_set(err, SP_INTERNAL, "sp_dicom_scan_path: no result "
                                              "pointer");
    *scan = nullptr;
    if (!path || !*path)
        return sp_error_set(err, SP_USAGE, "no DICOM path given");
    if (!spd_initialised())
        return sp_error_set(err, SP_INTERNAL,
                            "sp_dicom_init was not called before scanning %s",
                            path);
    spd_collect c = {};
    sp_status st;
    try {
        st = scan_files(path, options, &c, err);
    } catch (const std::bad_alloc &) {
        st = sp_error_set(err, SP_NOMEM, "%s: out of memory while scanning",
                          path);
    } catch (...) {
        st = sp_error_set(err, SP_INTERNAL, "%s: unexpected error while "
                                            "scanning",
                          path);
    }
    if (st != SP_OK) {
        spd_collect_free(&c);
        return st;
    }
    return spd_group(&c, scan, err);
}
