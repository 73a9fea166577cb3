using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Server.Serving;

/// <summary>One column of an <see cref="InMemoryDataView"/>.</summary>
internal abstract class InMemoryColumn(string name, DataViewType type)
{
    public string Name { get; } = name;

    public DataViewType Type { get; } = type;

    public abstract Delegate MakeGetter(InMemoryDataView.Cursor cursor);
}

/// <summary>A column of immutable values (numbers, booleans, text), handed out as they are.</summary>
internal sealed class InMemoryColumn<T>(string name, DataViewType type, T[] values) : InMemoryColumn(name, type)
{
    public override Delegate MakeGetter(InMemoryDataView.Cursor cursor) =>
        (ValueGetter<T>)((ref T value) => value = values[cursor.Index]);
}

/// <summary>A vector column; each value is copied into the caller's buffer, since ML.NET reuses the buffers it is given.</summary>
internal sealed class InMemoryVectorColumn<T>(string name, VectorDataViewType type, VBuffer<T>[] values) : InMemoryColumn(name, type)
{
    public override Delegate MakeGetter(InMemoryDataView.Cursor cursor) =>
        (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) => values[cursor.Index].CopyTo(ref value));
}

/// <summary>A read-only <see cref="IDataView"/> over columns held in memory: the rows of one scoring request.</summary>
internal sealed class InMemoryDataView : IDataView
{
    private readonly IReadOnlyList<InMemoryColumn> _columns;
    private readonly int _rowCount;

    public InMemoryDataView(IReadOnlyList<InMemoryColumn> columns, int rowCount)
    {
        _columns = columns;
        _rowCount = rowCount;
        var builder = new DataViewSchema.Builder();
        foreach (var column in columns)
        {
            builder.AddColumn(column.Name, column.Type);
        }

        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [new Cursor(this, columnsNeeded)];

    /// <summary>Walks the rows in order.</summary>
    internal sealed class Cursor : DataViewRowCursor
    {
        private readonly InMemoryDataView _view;
        private readonly bool[] _active;
        private readonly Delegate?[] _getters;

        public Cursor(InMemoryDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            _view = view;
            _active = new bool[view._columns.Count];
            _getters = new Delegate?[view._columns.Count];
            foreach (var column in columnsNeeded)
            {
                _active[column.Index] = true;
            }
        }

        public int Index { get; private set; } = -1;

        public override long Position => Index;

        public override long Batch => 0;

        public override DataViewSchema Schema => _view.Schema;

        public override bool MoveNext()
        {
            if (Index + 1 >= _view._rowCount)
            {
                Index = _view._rowCount;
                return false;
            }

            Index++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)Index, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
            {
                throw new InvalidOperationException($"Column '{column.Name}' is not active.");
            }

            var getter = _getters[column.Index] ??= _view._columns[column.Index].MakeGetter(this);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type.RawType.Name}, not {typeof(TValue).Name}.");
        }
    }
}
