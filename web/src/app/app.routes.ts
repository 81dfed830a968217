import { Routes } from '@angular/router';
import { signedIn } from './core/auth.interceptor';

/** Each plugin's page is its own lazy chunk; any other plugin gets the generic dashboard. */
export const routes: Routes = [
  { path: 'login', loadComponent: () => import('./login/login-page').then(m => m.LoginPage) },
  {
    path: '', canActivateChild: [signedIn], children: [
      { path: '', pathMatch: 'full', loadComponent: () => import('./overview/overview-page').then(m => m.OverviewPage) },
      { path: 'models', loadComponent: () => import('./models/models-page').then(m => m.ModelsPage) },
      { path: 'users', loadComponent: () => import('./users/users-page').then(m => m.UsersPage) },
      { path: 'plugins/apikeys', loadComponent: () => import('./keys/keys-page').then(m => m.KeysPage) },
      { path: 'plugins/brainml', loadComponent: () => import('./brainml/brainml-page').then(m => m.BrainmlPage) },
      { path: 'plugins/llmserver', loadComponent: () => import('./chat/chat-page').then(m => m.ChatPage) },
      { path: 'plugins/rustyface', loadComponent: () => import('./faces/faces-page').then(m => m.FacesPage) },
      { path: 'plugins/candle', loadComponent: () => import('./candle/candle-page').then(m => m.CandlePage) },
      { path: 'plugins/repoagent', loadComponent: () => import('./plugins/plugin-dashboard').then(m => m.PluginDashboard), data: { pluginId: 'repoagent' } },
      { path: 'plugins/:pluginId', loadComponent: () => import('./plugins/plugin-dashboard').then(m => m.PluginDashboard) },
      { path: 'chat', redirectTo: 'plugins/llmserver' },
      { path: 'faces', redirectTo: 'plugins/rustyface' },
    ],
  },
  { path: '**', loadComponent: () => import('./placeholders/coming-page').then(m => m.ComingPage), data: { title: 'Not found', what: 'This page' } },
];
