/** The current time, refreshed every `ms` (so that « il y a 3 min » and « vers 10:45 » stay true). */
import { useEffect, useState } from 'react';

export function useNow(ms: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = window.setInterval(() => setNow(new Date()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}
