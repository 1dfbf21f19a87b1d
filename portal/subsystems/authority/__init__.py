"""機構授權作業 (menu O) and 允入HIS廠商申請作業: the institution's own authority screens."""
