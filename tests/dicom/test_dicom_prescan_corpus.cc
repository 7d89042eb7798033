// No false refusals: every file under ../shared/data/conformance and
// sample_dicom that DCMTK itself reads passes the declared-length pre-scan
// (dicom_prescan.c), and the fuzz regression inputs that declare 1-4 GiB
// elements are refused, fast. Prints the per-folder counts.
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"

extern "C" {
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dicom/dicom_prescan.h"
#include "test_data.h"
}

namespace {

void list_files(const std::string &dir, std::vector<std::string> *out)
{
    DIR *d = opendir(dir.c_str());
    if (!d)
        return;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        std::string p = dir + "/" + e->d_name;
        struct stat st;
        if (lstat(p.c_str(), &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            list_files(p, out);
        else if (S_ISREG(st.st_mode))
            out->push_back(p);
    }
    closedir(d);
}

double now_ms()
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

void check_folder(const std::string &dir)
{
    std::vector<std::string> files;
    list_files(dir, &files);
    assert_true(files.size() > 0);
    size_t dcmtk_reads = 0, passed = 0, refused = 0;
    for (const std::string &f : files) {
        sp_error err = {};
        sp_status st = spd_prescan_file(f.c_str(), &err);
        // Values over 4 KiB stay on disk, as in the header scan.
        DcmFileFormat ff;
        bool readable = ff.loadFile(f.c_str(), EXS_Unknown, EGL_noChange, 4096,
                                    ERM_autoDetect)
                            .good();
        dcmtk_reads += readable;
        if (st == SP_OK) {
            passed++;
            continue;
        }
        refused++;
        std::printf("# refused: %s\n", err.message);
        assert_int_equal(st, SP_FORMAT);
        assert_non_null(std::strstr(err.message, f.c_str()));
        if (readable)
            fail_msg("false refusal of a file DCMTK reads: %s", err.message);
    }
    std::printf("# %s: %zu files, DCMTK reads %zu, pre-scan passes %zu, "
                "refuses %zu\n",
                dir.c_str(), files.size(), dcmtk_reads, passed, refused);
}

void conformance_has_no_false_refusals(void **state)
{
    (void)state;
    char *root = test_data_path("conformance");
    DIR *d = opendir(root);
    assert_non_null(d);
    std::vector<std::string> dirs;
    while (struct dirent *e = readdir(d))
        if (e->d_name[0] != '.')
            dirs.push_back(std::string(root) + "/" + e->d_name);
    closedir(d);
    for (const std::string &dir : dirs)
        check_folder(dir);
    free(root);
    char *samples = test_source_path("sample_dicom");
    check_folder(samples);
    free(samples);
}

// The regression inputs fuzzing kept for DCMTK's reservation of declared
// lengths: each is refused, naming the element and its length, in well
// under a millisecond per file.
void fuzz_declared_length_inputs_are_refused(void **state)
{
    (void)state;
    char *dir = test_source_path("fuzz/corpus/dicom_file");
    std::vector<std::string> files;
    list_files(dir, &files);
    size_t n = 0;
    for (const std::string &f : files) {
        const char *base = std::strrchr(f.c_str(), '/') + 1;
        if (std::strstr(base, "declared-length") == nullptr)
            continue;
        n++;
        sp_error err = {};
        double t0 = now_ms();
        assert_int_equal(spd_prescan_file(f.c_str(), &err), SP_FORMAT);
        double ms = now_ms() - t0;
        std::printf("# %s: %.3f ms: %s\n", base, ms, err.message);
        assert_non_null(std::strstr(err.message, "declares"));
        assert_non_null(std::strstr(err.message, "remain"));
        assert_true(ms < 50.0);
    }
    assert_int_equal(n, 4);
    free(dir);
}

} // namespace

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_has_no_false_refusals),
        cmocka_unit_test(fuzz_declared_length_inputs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
