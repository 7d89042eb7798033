// itk_bench: ITK's counterpart of a spinepipe denoise run, for
// bench/compare.sh. Reads a DICOM series with GDCM into a float volume
// (rescale applied, as spinepipe does), runs one filter, writes nothing,
// and prints one line of key=value pairs: the read and filter times
// (wall seconds), the voxel count and the mean of the output (a check
// that the filter ran).
//
//   itk_bench median DIR            3x3x1 median (radius 1 in-plane)
//   itk_bench gradient DIR N K      GradientAnisotropicDiffusion
//   itk_bench curvature DIR N K     CurvatureAnisotropicDiffusion
//
// Diffusion runs N iterations with conductance parameter K at a time
// step of 0.9 of the stable limit min(spacing) / 2^(dims+1), in mm.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "itkCurvatureAnisotropicDiffusionImageFilter.h"
#include "itkGDCMImageIO.h"
#include "itkGDCMSeriesFileNames.h"
#include "itkGradientAnisotropicDiffusionImageFilter.h"
#include "itkImage.h"
#include "itkImageRegionConstIterator.h"
#include "itkImageSeriesReader.h"
#include "itkMedianImageFilter.h"

using Image = itk::Image<float, 3>;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         t0)
        .count();
}

double mean_of(const Image *img)
{
    itk::ImageRegionConstIterator<Image> it(img,
                                            img->GetLargestPossibleRegion());
    double sum = 0;
    size_t n = 0;
    for (it.GoToBegin(); !it.IsAtEnd(); ++it, ++n)
        sum += it.Get();
    return n ? sum / (double)n : 0;
}

Image::Pointer read_series(const char *dir)
{
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(dir);
    const auto &uids = names->GetSeriesUIDs();
    if (uids.empty())
        throw std::runtime_error(std::string(dir) + ": no DICOM series");
    auto reader = itk::ImageSeriesReader<Image>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(names->GetFileNames(uids.front()));
    reader->Update();
    return reader->GetOutput();
}

template <typename Filter>
Image::Pointer diffuse(Image *in, int iterations, double conductance)
{
    auto f = Filter::New();
    f->SetInput(in);
    f->SetNumberOfIterations((unsigned)iterations);
    f->SetConductanceParameter(conductance);
    const auto sp = in->GetSpacing();
    double h = sp[0] < sp[1] ? sp[0] : sp[1];
    h = h < sp[2] ? h : sp[2];
    f->SetTimeStep(0.9 * h / 16.0);
    f->Update();
    return f->GetOutput();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3 ||
        (std::strcmp(argv[1], "median") && argc < 5)) {
        std::fprintf(stderr, "usage: %s median DIR | gradient DIR N K | "
                             "curvature DIR N K\n",
                     argv[0]);
        return 64;
    }
    const std::string method = argv[1];
    try {
        auto t0 = std::chrono::steady_clock::now();
        Image::Pointer in = read_series(argv[2]);
        double read_s = seconds_since(t0);
        Image::Pointer out;
        t0 = std::chrono::steady_clock::now();
        if (method == "median") {
            auto f = itk::MedianImageFilter<Image, Image>::New();
            Image::SizeType r;
            r[0] = 1;
            r[1] = 1;
            r[2] = 0;
            f->SetRadius(r);
            f->SetInput(in);
            f->Update();
            out = f->GetOutput();
        } else if (method == "gradient" || method == "curvature") {
            int n = std::atoi(argv[3]);
            double k = std::atof(argv[4]);
            if (n < 1 || !(k > 0)) {
                std::fprintf(stderr, "itk_bench: bad N or K\n");
                return 64;
            }
            if (method == "gradient")
                out = diffuse<itk::GradientAnisotropicDiffusionImageFilter<
                    Image, Image>>(in, n, k);
            else
                out = diffuse<itk::CurvatureAnisotropicDiffusionImageFilter<
                    Image, Image>>(in, n, k);
        } else {
            std::fprintf(stderr, "itk_bench: unknown method %s\n",
                         method.c_str());
            return 64;
        }
        double filter_s = seconds_since(t0);
        auto size = out->GetLargestPossibleRegion().GetSize();
        std::printf("method=%s read_s=%.4f filter_s=%.4f voxels=%zu "
                    "threads=%u mean=%.4f\n",
                    method.c_str(), read_s, filter_s,
                    (size_t)(size[0] * size[1] * size[2]),
                    itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads(),
                    mean_of(out));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "itk_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
