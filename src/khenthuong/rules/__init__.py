"""Domain rules as pure functions over plain data: the award catalog and its dated rule
sets, eligibility ladders, vote thresholds, shares and award money. Nothing here reads the
database; the guards that do are in `khenthuong.services.guards`."""
