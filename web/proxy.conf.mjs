// `npm start` (ng serve on :4200) forwards the API and sockets to a running gateway: BKG_URL, default :8080.
const target = process.env.BKG_URL ?? 'http://127.0.0.1:8080';
export default {
  '/api': { target, secure: false },
  '/v1': { target, secure: false },
  '/v2': { target, secure: false },
  '/ws': { target, secure: false, ws: true },
};
