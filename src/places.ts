/**
 * @module Where AWS's regions are, for `globalTable()`'s default `nearest(c)`: the region closest
 * to a point, by great-circle distance.
 */

/** Where AWS's regions are, roughly (degrees of latitude and longitude), for the nearest one. */
const PLACES: Record<string, [number, number]> = {
  'us-east-1': [38.9, -77.4],
  'us-east-2': [40.0, -83.0],
  'us-west-1': [37.4, -121.9],
  'us-west-2': [45.8, -119.7],
  'ca-central-1': [45.5, -73.6],
  'ca-west-1': [51.0, -114.1],
  'mx-central-1': [20.6, -100.4],
  'sa-east-1': [-23.5, -46.6],
  'eu-west-1': [53.3, -6.3],
  'eu-west-2': [51.5, -0.1],
  'eu-west-3': [48.9, 2.4],
  'eu-central-1': [50.1, 8.7],
  'eu-central-2': [47.4, 8.5],
  'eu-north-1': [59.3, 18.1],
  'eu-south-1': [45.5, 9.2],
  'eu-south-2': [41.6, -0.9],
  'il-central-1': [32.1, 34.8],
  'me-south-1': [26.1, 50.6],
  'me-central-1': [25.2, 55.3],
  'af-south-1': [-33.9, 18.4],
  'ap-east-1': [22.3, 114.2],
  'ap-south-1': [19.1, 72.9],
  'ap-south-2': [17.4, 78.5],
  'ap-southeast-1': [1.3, 103.8],
  'ap-southeast-2': [-33.9, 151.2],
  'ap-southeast-3': [-6.2, 106.8],
  'ap-southeast-4': [-37.8, 145.0],
  'ap-southeast-5': [3.1, 101.7],
  'ap-southeast-7': [13.8, 100.5],
  'ap-northeast-1': [35.7, 139.7],
  'ap-northeast-2': [37.6, 127.0],
  'ap-northeast-3': [34.7, 135.5],
}

/** The great-circle distance between two points, in radians of arc. */
function arc([lat1, lon1]: [number, number], [lat2, lon2]: [number, number]): number {
  const r = Math.PI / 180
  const a =
    Math.sin(((lat2 - lat1) * r) / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2
  return 2 * Math.asin(Math.sqrt(a))
}

/** The region of `regions` closest to `here` (latitude, longitude); the first when none is known. */
export function closest(here: [number, number], regions: readonly string[]): string {
  let best = regions[0]
  for (const region of regions) {
    const place = PLACES[region]
    if (place && (!PLACES[best] || arc(here, place) < arc(here, PLACES[best]))) best = region
  }
  return best
}
