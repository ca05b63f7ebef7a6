//! Small-cell suppression: what a report may publish of a table of counts so that nobody
//! can be singled out.
//!
//! A count below the threshold *k* (default 11, the CMS cell-size rule; never below 5) is
//! published as "fewer than *k*"; zero is shown. That alone is not enough when totals are
//! published: a row of `3, 40 | 43` with the 3 hidden gives it back by subtraction. So
//! other cells are withheld too (*complementary* suppression) until every withheld cell
//! has more than one value consistent with everything published, including what the
//! labels say ("fewer than *k*" is between 1 and *k* − 1, "withheld" is at least *k*,
//! because zero is shown and every other count below *k* is labelled as such).
//!
//! The check is exact, not a rule of thumb. Write the table with its margins as a
//! circulation on the bipartite graph of its lines (row *i* → column *j* carries the cell,
//! signed so that every line sums to zero); a published cell is a fixed flow, a withheld
//! one a flow between the bounds its label implies. A withheld cell is pinned exactly when
//! no cycle of the residual graph passes through it (a bridge of the graph of withheld
//! cells is the simplest case). Where a cell is pinned, the cheapest path that closes
//! such a cycle is found (Dijkstra over the cells that may still be withheld, small
//! interior cells first, totals last) and its cells are withheld. Withholding more only
//! widens what an onlooker must consider, so the loop ends, and when it ends no withheld
//! cell is pinned. In a line whose total is published, the cells withheld in it also hide
//! at least *k* between them, so two small neighbours do not give away a small sum.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::domain::Invalid;

/// The CMS cell-size rule.
pub const DEFAULT_THRESHOLD: u64 = 11;
/// Below this a threshold protects nobody; settings refuse it.
pub const MIN_THRESHOLD: u64 = 5;

/// The smallest count a report shows (other than zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(u64);

impl Threshold {
    pub fn new(k: u64) -> Result<Self, Invalid> {
        if k < MIN_THRESHOLD {
            return Err(Invalid::new(
                "report_threshold",
                format!(
                    "The smallest count a report shows cannot be below {MIN_THRESHOLD}: smaller \
                     groups are too easy to recognise."
                ),
            ));
        }
        if k > 1_000 {
            return Err(Invalid::new(
                "report_threshold",
                "The smallest count a report shows can be at most 1,000.",
            ));
        }
        Ok(Self(k))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Self(DEFAULT_THRESHOLD)
    }
}

/// One published cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Count(u64),
    /// Between 1 and k − 1.
    FewerThan(u64),
    /// Withheld so that a small cell cannot be worked out; at least k.
    Withheld,
}

impl Cell {
    /// The count, when it is published.
    pub fn count(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            _ => None,
        }
    }

    /// How a page and a CSV file write it.
    pub fn text(self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::FewerThan(k) => format!("fewer than {k}"),
            Cell::Withheld => "withheld".to_string(),
        }
    }

    pub fn is_suppressed(self) -> bool {
        !matches!(self, Cell::Count(_))
    }
}

/// A two-way table as it may be published: the cells, each row's total, each column's
/// total and the grand total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub column_totals: Vec<Cell>,
    pub total: Cell,
}

/// A one-way table (categories and their total) as it may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedLine {
    pub cells: Vec<Cell>,
    pub total: Cell,
}

/// Suppresses a table of counts (rows of equal length) published with its totals.
pub fn table(counts: &[Vec<u64>], k: Threshold) -> Published {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    debug_assert!(counts.iter().all(|r| r.len() == cols), "ragged table");
    let mut grid = Grid::new(counts, cols, k.get());
    grid.protect();
    let cell = |i: usize, j: usize| grid.published(i, j);
    Published {
        cells: (0..rows)
            .map(|i| (0..cols).map(|j| cell(i, j)).collect())
            .collect(),
        row_totals: (0..rows).map(|i| cell(i, cols)).collect(),
        column_totals: (0..cols).map(|j| cell(rows, j)).collect(),
        total: cell(rows, cols),
    }
}

/// Suppresses one line of counts published with its total.
pub fn line(counts: &[u64], k: Threshold) -> PublishedLine {
    let t = table(&[counts.to_vec()], k);
    PublishedLine {
        cells: t.cells.into_iter().next().unwrap_or_default(),
        total: t.total,
    }
}

/// Folds the categories below k into one "other" category, where that publishes more than
/// suppressing them would: "Other departments: 14" instead of three cells of "fewer than
/// 11" and one withheld neighbour. If the small ones together are still below k, the
/// next smallest categories join them until "other" reaches k. Zeros stay as they are.
/// The result still goes through [`line`] or [`table`], which deal with what is left
/// (a total below k, for instance).
pub fn fold_small(categories: &[(String, u64)], k: Threshold, other: &str) -> Vec<(String, u64)> {
    let k = k.get();
    let small = categories.iter().filter(|(_, n)| *n > 0 && *n < k).count();
    if small == 0 {
        return categories.to_vec();
    }
    let mut order: Vec<usize> = (0..categories.len())
        .filter(|&i| categories[i].1 > 0)
        .collect();
    order.sort_by_key(|&i| (categories[i].1, i));
    let mut folded = vec![false; categories.len()];
    let mut sum = 0;
    for &i in &order {
        if categories[i].1 >= k && sum >= k {
            break;
        }
        folded[i] = true;
        sum += categories[i].1;
    }
    let mut out: Vec<(String, u64)> = categories
        .iter()
        .zip(&folded)
        .filter(|(_, f)| !**f)
        .map(|(c, _)| c.clone())
        .collect();
    out.push((other.to_string(), sum));
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Shown,
    Primary,
    Complementary,
}

/// The table with its margins: row `rows` holds the column totals, column `cols` the row
/// totals, and `(rows, cols)` the grand total.
struct Grid {
    value: Vec<Vec<u64>>,
    mark: Vec<Vec<Mark>>,
    rows: usize,
    cols: usize,
    k: u64,
    everything_withheld: bool,
}

/// One arc of the residual graph: the cell it moves and where it goes.
#[derive(Clone, Copy)]
struct Arc {
    to: usize,
    cell: (usize, usize),
}

impl Grid {
    fn new(counts: &[Vec<u64>], cols: usize, k: u64) -> Self {
        let rows = counts.len();
        let mut value = vec![vec![0u64; cols + 1]; rows + 1];
        for (i, row) in counts.iter().enumerate() {
            for (j, &n) in row.iter().enumerate().take(cols) {
                value[i][j] = n;
                value[i][cols] += n;
                value[rows][j] += n;
                value[rows][cols] += n;
            }
        }
        let mark = value
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&n| {
                        if n > 0 && n < k {
                            Mark::Primary
                        } else {
                            Mark::Shown
                        }
                    })
                    .collect()
            })
            .collect();
        Self {
            value,
            mark,
            rows,
            cols,
            k,
            everything_withheld: false,
        }
    }

    fn published(&self, i: usize, j: usize) -> Cell {
        if self.everything_withheld {
            return Cell::Withheld;
        }
        match self.mark[i][j] {
            Mark::Shown => Cell::Count(self.value[i][j]),
            Mark::Primary => Cell::FewerThan(self.k),
            Mark::Complementary => Cell::Withheld,
        }
    }

    fn cells(&self) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (rows, cols) = (self.rows, self.cols);
        (0..=rows).flat_map(move |i| (0..=cols).map(move |j| (i, j)))
    }

    fn suppressed(&self, (i, j): (usize, usize)) -> bool {
        self.mark[i][j] != Mark::Shown
    }

    /// A cell that may be withheld to protect another: a published count above zero
    /// (withholding a zero would tell nothing an onlooker could not guess, and the
    /// labels promise zero is shown).
    fn candidate(&self, (i, j): (usize, usize)) -> bool {
        self.mark[i][j] == Mark::Shown && self.value[i][j] > 0
    }

    /// What withholding a cell costs: its count, totals dearer than any interior cell,
    /// the grand total dearest.
    fn cost(&self, (i, j): (usize, usize)) -> u64 {
        let grand = self.value[self.rows][self.cols] + 1;
        let margins = u64::from(i == self.rows) + u64::from(j == self.cols);
        self.value[i][j] + margins * grand * 4 + 1
    }

    /// Withholds cells until nothing withheld can be worked out.
    fn protect(&mut self) {
        // Each pass withholds at least one more cell or stops, so this ends; the bound is
        // a guard against a mistake here, never reached by the rule itself.
        for _ in 0..=(self.rows + 1) * (self.cols + 1) {
            let changed = self.hide_enough_in_each_line() | self.unpin_each_cell();
            if !changed {
                return;
            }
        }
        self.everything_withheld = true;
    }

    /// In a line whose total is published, the cells withheld in it hide at least k.
    fn hide_enough_in_each_line(&mut self) -> bool {
        let mut changed = false;
        let lines: Vec<Vec<(usize, usize)>> = (0..=self.rows)
            .map(|i| (0..=self.cols).map(|j| (i, j)).collect())
            .chain((0..=self.cols).map(|j| (0..=self.rows).map(|i| (i, j)).collect()))
            .collect();
        for line in lines {
            let (total, parts) = line.split_last().expect("a line has a total");
            if self.suppressed(*total) {
                continue;
            }
            loop {
                let hidden: u64 = parts
                    .iter()
                    .filter(|&&c| self.suppressed(c))
                    .map(|&(i, j)| self.value[i][j])
                    .sum();
                if hidden == 0 || hidden >= self.k {
                    break;
                }
                let Some(&pick) = parts
                    .iter()
                    .filter(|&&c| self.candidate(c))
                    .min_by_key(|&&c| self.cost(c))
                else {
                    break;
                };
                self.mark[pick.0][pick.1] = Mark::Complementary;
                changed = true;
            }
        }
        changed
    }

    /// For each withheld cell that could be worked out exactly, withholds the cheapest
    /// path that puts it on a residual cycle.
    fn unpin_each_cell(&mut self) -> bool {
        let mut changed = false;
        let cells: Vec<_> = self.cells().collect();
        for e in cells {
            if !self.suppressed(e) || !self.pinned(e) {
                continue;
            }
            match self.cheapest_unpinning(e) {
                Some(path) => {
                    for (i, j) in path {
                        if self.mark[i][j] == Mark::Shown {
                            self.mark[i][j] = Mark::Complementary;
                            changed = true;
                        }
                    }
                }
                None => {
                    self.everything_withheld = true;
                    return false;
                }
            }
        }
        changed
    }

    fn row_node(i: usize) -> usize {
        i
    }

    fn col_node(&self, j: usize) -> usize {
        self.rows + 1 + j
    }

    /// Margins enter their lines negatively, so every line sums to zero.
    fn sign(&self, (i, j): (usize, usize)) -> i8 {
        if (i == self.rows) != (j == self.cols) {
            -1
        } else {
            1
        }
    }

    /// The bounds an onlooker knows for a cell marked `mark` (published cells are fixed).
    fn bounds(&self, cell: (usize, usize), mark: Mark) -> (u64, u64) {
        let v = self.value[cell.0][cell.1];
        match mark {
            Mark::Shown => (v, v),
            Mark::Primary => (1, self.k - 1),
            Mark::Complementary => (self.k, u64::MAX),
        }
    }

    /// The residual arcs of a cell, were it marked `mark`: (flow may rise, flow may fall).
    fn moves(&self, cell: (usize, usize), mark: Mark) -> (bool, bool) {
        let v = self.value[cell.0][cell.1];
        let (lo, hi) = self.bounds(cell, mark);
        let (up, down) = (v < hi, v > lo);
        if self.sign(cell) > 0 {
            (up, down)
        } else {
            (down, up)
        }
    }

    fn arcs_of(&self, cell: (usize, usize), mark: Mark, out: &mut [Vec<Arc>]) {
        let (u, w) = (Self::row_node(cell.0), self.col_node(cell.1));
        let (rise, fall) = self.moves(cell, mark);
        if rise {
            out[u].push(Arc { to: w, cell });
        }
        if fall {
            out[w].push(Arc { to: u, cell });
        }
    }

    /// True when no residual cycle passes through `e`: its value is the only one
    /// consistent with what is published.
    fn pinned(&self, e: (usize, usize)) -> bool {
        self.unpinning(e, false).is_none()
    }

    fn cheapest_unpinning(&self, e: (usize, usize)) -> Option<Vec<(usize, usize)>> {
        self.unpinning(e, true)
    }

    /// The cheapest path closing a residual cycle through `e`, over withheld cells (free)
    /// and, when `may_withhold`, cells that could be withheld (at their cost).
    fn unpinning(&self, e: (usize, usize), may_withhold: bool) -> Option<Vec<(usize, usize)>> {
        let nodes = self.rows + self.cols + 2;
        let mut arcs: Vec<Vec<(Arc, u64)>> = vec![Vec::new(); nodes];
        let mut scratch: Vec<Vec<Arc>> = vec![Vec::new(); nodes];
        for c in self.cells() {
            if c == e {
                continue;
            }
            let (mark, cost) = if self.suppressed(c) {
                (self.mark[c.0][c.1], 0)
            } else if may_withhold && self.candidate(c) {
                (Mark::Complementary, self.cost(c))
            } else {
                continue;
            };
            self.arcs_of(c, mark, &mut scratch);
            for (from, list) in scratch.iter_mut().enumerate() {
                arcs[from].extend(list.drain(..).map(|a| (a, cost)));
            }
        }
        let (u, w) = (Self::row_node(e.0), self.col_node(e.1));
        let (rise, fall) = self.moves(e, self.mark[e.0][e.1]);
        // Rising on e (u → w) closes with a path w ⇝ u; falling (w → u) with u ⇝ w.
        let mut best: Option<(u64, Vec<(usize, usize)>)> = None;
        for (ok, from, to) in [(rise, w, u), (fall, u, w)] {
            if !ok {
                continue;
            }
            if let Some(found) = cheapest_path(&arcs, from, to)
                && best.as_ref().is_none_or(|(c, _)| found.0 < *c)
            {
                best = Some(found);
            }
        }
        best.map(|(_, path)| path)
    }
}

/// Dijkstra from `from` to `to`; the cells on the path and its cost.
fn cheapest_path(
    arcs: &[Vec<(Arc, u64)>],
    from: usize,
    to: usize,
) -> Option<(u64, Vec<(usize, usize)>)> {
    let mut dist = vec![u64::MAX; arcs.len()];
    let mut came: Vec<Option<(usize, (usize, usize))>> = vec![None; arcs.len()];
    let mut heap = BinaryHeap::new();
    dist[from] = 0;
    heap.push(Reverse((0u64, from)));
    while let Some(Reverse((d, n))) = heap.pop() {
        if d > dist[n] {
            continue;
        }
        if n == to {
            break;
        }
        for (arc, cost) in &arcs[n] {
            let nd = d.saturating_add(*cost);
            if nd < dist[arc.to] {
                dist[arc.to] = nd;
                came[arc.to] = Some((n, arc.cell));
                heap.push(Reverse((nd, arc.to)));
            }
        }
    }
    if dist[to] == u64::MAX {
        return None;
    }
    let mut path = Vec::new();
    let mut n = to;
    while n != from {
        let (prev, cell) = came[n]?;
        path.push(cell);
        n = prev;
    }
    Some((dist[to], path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn k(n: u64) -> Threshold {
        Threshold::new(n).expect("a valid threshold")
    }

    /// Everything an onlooker can read off a published table, as the full grid with
    /// margins: `Some(n)` for a count, else the bounds the label implies.
    fn knowledge(p: &Published, k: u64) -> Vec<Vec<Result<u64, (u64, u64)>>> {
        let read = |c: Cell| match c {
            Cell::Count(n) => Ok(n),
            Cell::FewerThan(_) => Err((1, k - 1)),
            Cell::Withheld => Err((k, u64::MAX)),
        };
        let mut g: Vec<Vec<_>> = p
            .cells
            .iter()
            .zip(&p.row_totals)
            .map(|(r, t)| r.iter().chain([t]).map(|&c| read(c)).collect())
            .collect();
        g.push(
            p.column_totals
                .iter()
                .chain([&p.total])
                .map(|&c| read(c))
                .collect(),
        );
        g
    }

    /// The range of each cell of the full grid (margins included) over every table of
    /// counts consistent with what is published, by brute force (each cell at most
    /// `cap`); `None` when the search would take more than `budget` steps.
    fn ranges(
        known: &[Vec<Result<u64, (u64, u64)>>],
        cap: u64,
        budget: u64,
    ) -> Option<Vec<Vec<(u64, u64)>>> {
        struct Search<'a> {
            known: &'a [Vec<Result<u64, (u64, u64)>>],
            rows: usize,
            cols: usize,
            cap: u64,
            t: Vec<Vec<u64>>,
            range: Vec<Vec<(u64, u64)>>,
            steps: u64,
            budget: u64,
        }
        fn upper(k: &Result<u64, (u64, u64)>) -> u64 {
            match k {
                Ok(n) => *n,
                Err((_, hi)) => *hi,
            }
        }
        fn fits(k: &Result<u64, (u64, u64)>, v: u64) -> bool {
            match k {
                Ok(n) => *n == v,
                Err((lo, hi)) => v >= *lo && v <= *hi,
            }
        }
        impl Search<'_> {
            fn go(&mut self, pos: usize) -> bool {
                self.steps += 1;
                if self.steps > self.budget {
                    return false;
                }
                let (rows, cols) = (self.rows, self.cols);
                if pos == rows * cols {
                    let mut full = self.t.clone();
                    for row in full.iter_mut() {
                        let s = row.iter().sum();
                        row.push(s);
                    }
                    let margin: Vec<u64> = (0..=cols)
                        .map(|j| full.iter().map(|r| r[j]).sum())
                        .collect();
                    full.push(margin);
                    if (0..=cols).all(|j| fits(&self.known[rows][j], full[rows][j])) {
                        for (range_row, full_row) in self.range.iter_mut().zip(&full) {
                            for (r, &v) in range_row.iter_mut().zip(full_row) {
                                *r = (r.0.min(v), r.1.max(v));
                            }
                        }
                    }
                    return true;
                }
                let (i, j) = (pos / cols, pos % cols);
                let row_sum: u64 = self.t[i][..j].iter().sum();
                let col_sum: u64 = (0..i).map(|r| self.t[r][j]).sum();
                let mut hi = self.cap;
                hi = hi.min(upper(&self.known[i][cols]).saturating_sub(row_sum));
                hi = hi.min(upper(&self.known[rows][j]).saturating_sub(col_sum));
                let mut lo = 0;
                // The last cell of a row with a published total, or of a column with one,
                // is what remains.
                if j + 1 == cols
                    && let Ok(n) = self.known[i][cols]
                {
                    if n < row_sum {
                        return true;
                    }
                    (lo, hi) = (n - row_sum, hi.min(n - row_sum));
                }
                if i + 1 == rows
                    && let Ok(n) = self.known[rows][j]
                {
                    if n < col_sum || n - col_sum < lo {
                        return true;
                    }
                    (lo, hi) = (n - col_sum, hi.min(n - col_sum));
                }
                for v in lo..=hi {
                    if !fits(&self.known[i][j], v) {
                        continue;
                    }
                    self.t[i][j] = v;
                    if j + 1 == cols && !fits(&self.known[i][cols], row_sum + v) {
                        continue;
                    }
                    if !self.go(pos + 1) {
                        return false;
                    }
                }
                true
            }
        }
        let rows = known.len() - 1;
        let cols = known[0].len() - 1;
        let mut s = Search {
            known,
            rows,
            cols,
            cap,
            t: vec![vec![0; cols]; rows],
            range: vec![vec![(u64::MAX, 0); cols + 1]; rows + 1],
            steps: 0,
            budget,
        };
        s.go(0).then_some(s.range)
    }

    /// The withheld cells of the full grid (margins included) an onlooker could work out
    /// exactly; `None` when there are too many tables to try.
    fn exactly_known(p: &Published, k: u64, cap: u64) -> Option<Vec<(usize, usize)>> {
        let known = knowledge(p, k);
        let range = ranges(&known, cap, 3_000_000)?;
        let mut exact = Vec::new();
        for (i, row) in known.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                if cell.is_err() && range[i][j].0 == range[i][j].1 {
                    exact.push((i, j));
                }
            }
        }
        Some(exact)
    }

    #[test]
    fn a_small_cell_beside_a_published_total_takes_a_neighbour_with_it() {
        let p = line(&[3, 40, 25], k(11));
        assert_eq!(p.cells[0], Cell::FewerThan(11));
        assert_eq!(
            p.cells[2],
            Cell::Withheld,
            "the smaller neighbour goes, not the larger"
        );
        assert_eq!(p.cells[1], Cell::Count(40));
        assert_eq!(p.total, Cell::Count(68));
    }

    #[test]
    fn zero_is_shown_and_nothing_is_withheld_without_need() {
        let p = table(&[vec![0, 12], vec![20, 0]], k(11));
        assert_eq!(
            p.cells,
            vec![
                vec![Cell::Count(0), Cell::Count(12)],
                vec![Cell::Count(20), Cell::Count(0)]
            ]
        );
        assert_eq!(p.total, Cell::Count(32));
    }

    #[test]
    fn a_total_below_the_threshold_hides_its_line() {
        let p = line(&[2, 3, 0], k(11));
        assert_eq!(p.total, Cell::FewerThan(11));
        assert_eq!(
            p.cells,
            vec![Cell::FewerThan(11), Cell::FewerThan(11), Cell::Count(0)]
        );
    }

    #[test]
    fn two_small_cells_that_sum_to_little_are_not_enough_cover_for_each_other() {
        // 1 and 2 hidden beside a published 30 + 3: the pair's sum (3) would say both
        // are tiny; a third cell must go too.
        let p = line(&[1, 2, 30, 40], k(11));
        let hidden: Vec<_> = p.cells.iter().filter(|c| c.is_suppressed()).collect();
        assert!(hidden.len() >= 3, "{p:?}");
        assert_eq!(p.cells[3], Cell::Count(40));
    }

    #[test]
    fn a_bridge_between_two_protected_blocks_is_closed() {
        // Rows 0–1 protect each other in columns 0–1, rows 2–3 in columns 2–3, and one
        // small cell (0, 2) joins the blocks: on its own it would be a bridge.
        let t = vec![
            vec![3, 4, 1, 50],
            vec![4, 3, 60, 70],
            vec![80, 90, 2, 3],
            vec![70, 80, 3, 2],
        ];
        let mut g = Grid::new(&t, 4, 5);
        g.protect();
        assert!(!g.everything_withheld);
        assert!(g.suppressed((0, 2)));
        for c in g.cells().collect::<Vec<_>>() {
            if g.suppressed(c) {
                assert!(!g.pinned(c), "{c:?} is pinned");
            }
        }
    }

    #[test]
    fn the_threshold_cannot_go_below_five() {
        assert!(Threshold::new(4).is_err());
        assert_eq!(Threshold::new(5).map(Threshold::get), Ok(5));
        assert_eq!(Threshold::default().get(), 11);
    }

    #[test]
    fn small_departments_fold_into_other_when_that_shows_more() {
        let cats = vec![
            ("Surgery".to_string(), 40),
            ("Pediatrics".to_string(), 4),
            ("Neurology".to_string(), 3),
            ("Radiology".to_string(), 6),
            ("Anesthesia".to_string(), 0),
        ];
        let out = fold_small(&cats, k(11), "Other");
        assert_eq!(
            out,
            vec![
                ("Surgery".to_string(), 40),
                ("Anesthesia".to_string(), 0),
                ("Other".to_string(), 13)
            ]
        );
        // Too small even together: the next smallest joins them.
        let out = fold_small(
            &[("A".into(), 3), ("B".into(), 20), ("C".into(), 30)],
            k(11),
            "Other",
        );
        assert_eq!(out, vec![("C".to_string(), 30), ("Other".to_string(), 23)]);
        // Nothing small: nothing folded.
        assert_eq!(
            fold_small(&[("A".into(), 30)], k(11), "Other"),
            vec![("A".to_string(), 30)]
        );
    }

    fn small_table() -> impl Strategy<Value = (Vec<Vec<u64>>, u64)> {
        (1usize..=2, 1usize..=3, 5u64..=7).prop_flat_map(|(r, c, k)| {
            let cell = prop_oneof![Just(0u64), 1..k, k..2 * k + 3];
            (
                prop::collection::vec(prop::collection::vec(cell, c), r),
                Just(k),
            )
        })
    }

    fn larger_table() -> impl Strategy<Value = (Vec<Vec<u64>>, u64)> {
        (1usize..=8, 1usize..=8, 5u64..=15).prop_flat_map(|(r, c, k)| {
            let cell = prop_oneof![2 => Just(0u64), 3 => 1..k, 4 => k..8 * k];
            (
                prop::collection::vec(prop::collection::vec(cell, c), r),
                Just(k),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(120))]

        /// On small tables, every table of counts consistent with what is published is
        /// enumerated: no withheld cell has one value in all of them.
        #[test]
        fn no_withheld_cell_can_be_worked_out((t, kk) in small_table()) {
            let p = table(&t, k(kk));
            let grand: u64 = t.iter().flatten().sum();
            let exact = exactly_known(&p, kk, grand + 2 * kk);
            prop_assume!(exact.is_some(), "too many tables to try");
            let exact = exact.unwrap_or_default();
            prop_assert!(exact.is_empty(), "{t:?} k={kk} published {p:?}: {exact:?} exact");
        }

        /// Nothing published is below k except zero, and every count shown is the true one.
        #[test]
        fn nothing_shown_is_small((t, kk) in larger_table()) {
            let p = table(&t, k(kk));
            let rows = t.len();
            let cols = t[0].len();
            let mut truth = t.clone();
            for (i, row) in truth.iter_mut().enumerate() {
                let s: u64 = t[i].iter().sum();
                row.push(s);
            }
            let mut col: Vec<u64> = (0..cols).map(|j| t.iter().map(|r| r[j]).sum()).collect();
            col.push(t.iter().flatten().sum());
            truth.push(col);
            let shown = knowledge(&p, kk);
            for i in 0..=rows {
                for j in 0..=cols {
                    if let Ok(n) = shown[i][j] {
                        prop_assert!(n == 0 || n >= kk, "{n} shown with k={kk}");
                        prop_assert_eq!(n, truth[i][j]);
                    } else {
                        prop_assert!(truth[i][j] > 0, "a zero was withheld");
                    }
                }
            }
        }

        /// On larger tables (too many to enumerate), the residual-cycle test holds for
        /// every withheld cell, and a line with a published total hides at least k.
        #[test]
        fn larger_tables_are_protected((t, kk) in larger_table()) {
            let mut g = Grid::new(&t, t[0].len(), kk);
            g.protect();
            if g.everything_withheld {
                return Ok(());
            }
            for c in g.cells().collect::<Vec<_>>() {
                if g.suppressed(c) {
                    prop_assert!(!g.pinned(c), "{c:?} pinned in {t:?}");
                }
            }
        }
    }
}
