using Microsoft.ML.Data;

namespace Cairn.Samples.Quickstart;

/// <summary>One row of <c>iris.csv</c>: four measurements in centimetres and the species.</summary>
public sealed class IrisFlower
{
    [LoadColumn(0)]
    public float SepalLength { get; set; }

    [LoadColumn(1)]
    public float SepalWidth { get; set; }

    [LoadColumn(2)]
    public float PetalLength { get; set; }

    [LoadColumn(3)]
    public float PetalWidth { get; set; }

    [LoadColumn(4)]
    public string Species { get; set; } = string.Empty;
}

/// <summary>The model's output for one flower.</summary>
public sealed class IrisPrediction
{
    [ColumnName("PredictedLabel")]
    public string PredictedSpecies { get; set; } = string.Empty;
}
