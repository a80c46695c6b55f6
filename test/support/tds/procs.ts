/**
 * System stored procedures of the TDS simulator: the RPC procedure ids of MS-TDS (ProcID), the
 * ones the simulator runs, and the ODBC type catalogue of sp_datatype_info.
 */
import type { Column } from './wire.js';

/** MS-TDS well-known procedure ids (RPC with ProcIDSwitch). */
export const PROC_IDS: Record<number, string> = {
  1: 'sp_cursor',
  2: 'sp_cursoropen',
  3: 'sp_cursorprepare',
  4: 'sp_cursorexecute',
  5: 'sp_cursorprepexec',
  6: 'sp_cursorunprepare',
  7: 'sp_cursorfetch',
  8: 'sp_cursoroption',
  9: 'sp_cursorclose',
  10: 'sp_executesql',
  11: 'sp_prepare',
  12: 'sp_execute',
  13: 'sp_prepexec',
  14: 'sp_prepexecrpc',
  15: 'sp_unprepare',
};

/** Procedures the simulator runs (by RPC, by id or name, and through EXEC in a batch). */
export const SUPPORTED_PROCS = ['sp_executesql', 'sp_prepare', 'sp_execute', 'sp_prepexec', 'sp_unprepare', 'sp_datatype_info'] as const;
export type SupportedProc = (typeof SUPPORTED_PROCS)[number];

/** `sys.sp_executesql`, `[dbo].[SP_PREPARE]`, `master..sp_datatype_info` → `sp_executesql`, …; others as written. */
export function bareProcName(name: string): string {
  const last = name.split('.').pop() ?? name;
  return last.replace(/^\[|\]$/g, '');
}

export function supportedProc(name: string): SupportedProc | null {
  // sp_datatype_info_90 / _100: the SQL Server 2005 / 2008 variants ODBC drivers call (same rows here)
  const bare = bareProcName(name).toLowerCase().replace(/^(sp_datatype_info)_(90|100)$/, '$1');
  return (SUPPORTED_PROCS as readonly string[]).includes(bare) ? (bare as SupportedProc) : null;
}

const sysname = { t: 'nvarchar', maxChars: 128 } as const;
const small = { t: 'int', size: 2 } as const;
const int = { t: 'int', size: 4 } as const;
const v32 = { t: 'varchar', maxChars: 32 } as const;

export const DATATYPE_INFO_COLUMNS: Column[] = [
  { name: 'TYPE_NAME', type: sysname },
  { name: 'DATA_TYPE', type: small },
  { name: 'PRECISION', type: int },
  { name: 'LITERAL_PREFIX', type: v32 },
  { name: 'LITERAL_SUFFIX', type: v32 },
  { name: 'CREATE_PARAMS', type: v32 },
  { name: 'NULLABLE', type: small },
  { name: 'CASE_SENSITIVE', type: small },
  { name: 'SEARCHABLE', type: small },
  { name: 'UNSIGNED_ATTRIBUTE', type: small },
  { name: 'MONEY', type: small },
  { name: 'AUTO_INCREMENT', type: small },
  { name: 'LOCAL_TYPE_NAME', type: sysname },
  { name: 'MINIMUM_SCALE', type: small },
  { name: 'MAXIMUM_SCALE', type: small },
  { name: 'SQL_DATA_TYPE', type: small },
  { name: 'SQL_DATETIME_SUB', type: small },
  { name: 'NUM_PREC_RADIX', type: int },
  { name: 'INTERVAL_PRECISION', type: small },
  { name: 'USERTYPE', type: small },
];

type TypeRow = [name: string, odbc3: number, odbc2: number, precision: number, prefix: string | null, suffix: string | null, params: string | null, caseSensitive: number, searchable: number, unsigned: number | null, money: number, minScale: number | null, maxScale: number | null, sqlDataType: number, datetimeSub: number | null, radix: number | null];

// ODBC SQL type codes as SQL Server 2019 lists them (SQL_WCHAR -8, SQL_WVARCHAR -9, SQL_WLONGVARCHAR -10, SQL_GUID -11,
// SQL_SS_TIME2 -154, SQL_SS_TIMESTAMPOFFSET -155)
const TYPES: TypeRow[] = [
  ['uniqueidentifier', -11, -11, 36, "'", "'", null, 0, 2, null, 0, null, null, -11, null, null],
  ['ntext', -10, -10, 1073741823, "N'", "'", null, 0, 1, null, 0, null, null, -10, null, null],
  ['nvarchar', -9, -9, 4000, "N'", "'", 'max length', 0, 3, null, 0, null, null, -9, null, null],
  ['sysname', -9, -9, 128, "N'", "'", null, 0, 3, null, 0, null, null, -9, null, null],
  ['nchar', -8, -8, 4000, "N'", "'", 'length', 0, 3, null, 0, null, null, -8, null, null],
  ['bit', -7, -7, 1, null, null, null, 0, 2, null, 0, 0, 0, -7, null, null],
  ['tinyint', -6, -6, 3, null, null, null, 0, 2, 1, 0, 0, 0, -6, null, 10],
  ['bigint', -5, -5, 19, null, null, null, 0, 2, 0, 0, 0, 0, -5, null, 10],
  ['image', -4, -4, 2147483647, '0x', null, null, 0, 0, null, 0, null, null, -4, null, null],
  ['varbinary', -3, -3, 8000, '0x', null, 'max length', 0, 2, null, 0, null, null, -3, null, null],
  ['binary', -2, -2, 8000, '0x', null, 'length', 0, 2, null, 0, null, null, -2, null, null],
  ['text', -1, -1, 2147483647, "'", "'", null, 0, 1, null, 0, null, null, -1, null, null],
  ['char', 1, 1, 8000, "'", "'", 'length', 0, 3, null, 0, null, null, 1, null, null],
  ['numeric', 2, 2, 38, null, null, 'precision,scale', 0, 2, 0, 0, 0, 38, 2, null, 10],
  ['decimal', 3, 3, 38, null, null, 'precision,scale', 0, 2, 0, 0, 0, 38, 3, null, 10],
  ['money', 3, 3, 19, '$', null, null, 0, 2, 0, 1, 4, 4, 3, null, 10],
  ['smallmoney', 3, 3, 10, '$', null, null, 0, 2, 0, 1, 4, 4, 3, null, 10],
  ['int', 4, 4, 10, null, null, null, 0, 2, 0, 0, 0, 0, 4, null, 10],
  ['smallint', 5, 5, 5, null, null, null, 0, 2, 0, 0, 0, 0, 5, null, 10],
  ['float', 6, 6, 53, null, null, null, 0, 2, 0, 0, null, null, 6, null, 2],
  ['real', 7, 7, 24, null, null, null, 0, 2, 0, 0, null, null, 7, null, 2],
  ['varchar', 12, 12, 8000, "'", "'", 'max length', 0, 3, null, 0, null, null, 12, null, null],
  ['date', 91, 9, 10, "'", "'", null, 0, 2, null, 0, null, null, 9, 1, null],
  ['datetime', 93, 11, 23, "'", "'", null, 0, 2, null, 0, 3, 3, 9, 3, null],
  ['datetime2', 93, 11, 27, "'", "'", 'scale', 0, 2, null, 0, 0, 7, 9, 3, null],
  ['smalldatetime', 93, 11, 16, "'", "'", null, 0, 2, null, 0, 0, 0, 9, 3, null],
  ['time', -154, -154, 16, "'", "'", 'scale', 0, 2, null, 0, 0, 7, -154, 0, null],
  ['datetimeoffset', -155, -155, 34, "'", "'", 'scale', 0, 2, null, 0, 0, 7, -155, 0, null],
];

/** Rows of `sp_datatype_info [@data_type =] n [, @ODBCVer =] 2|3`, ordered like SQL Server (by DATA_TYPE). */
export function datatypeInfoRows(dataType: number | null, odbcVer: number, collationCaseSensitive: boolean): unknown[][] {
  const rows = TYPES.map((t) => {
    const code = odbcVer >= 3 ? t[1] : t[2];
    const text = t[8] === 3 || t[8] === 1;
    return {
      code,
      row: [
        t[0], code, t[3], t[4], t[5], t[6], 1, text ? (collationCaseSensitive ? 1 : 0) : t[7], t[8], t[9], t[10], t[9] === null ? null : 0, t[0], t[11], t[12],
        t[13], t[14], t[15], null, null,
      ],
    };
  });
  return rows
    .filter((r) => dataType === null || dataType === 0 || r.code === dataType)
    .sort((a, b) => a.code - b.code)
    .map((r) => r.row);
}
